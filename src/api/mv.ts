/**
 * `mv`: moves an image file out of storage (or anywhere else) and updates the row's `image`.
 *
 * The destination may be an existing folder (the file keeps its name) or a file path whose folder
 * exists and is writable; an existing file is never replaced. Across filesystems the file is first
 * copied into a hidden temp file in the destination folder, outside the catalog lock; the final
 * rename, the row update and the removal of the old file happen in one catalog transaction (undone
 * together on failure). Storage folders left empty are removed. An unknown image, a remote record
 * and a missing file are NOT_FOUND errors here; the CLI turns them into the original's
 * WARNING with exit 0.
 *
 * @example
 * ```ts
 * const moved = await mv(ctx, "vsoch/hello-world:latest", "/scratch/images/");
 * moved.from; // "<storage>/vsoch/hello-world/latest@<v>.sif"
 * moved.to;   // "/scratch/images/latest@<v>.sif"
 * ```
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { copyFile, open, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { ContainerRow } from "../catalog/catalog.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { findContainer } from "./lookup.js";
import { finishFileSteps, renameIntoPlace, setAside, storageCleanup, withFileSteps } from "./storage-ops.js";
import { siblingTempPath } from "../util/temp-name.js";

export interface MoveResult {
  /** Where the file was. */
  from: string;
  /** Where it is now (absolute). */
  to: string;
  row: ContainerRow;
}

export async function mv(ctx: Context, query: string, destination: string): Promise<MoveResult> {
  const catalog = ctx.catalog();
  const row = await findContainer(catalog, query);
  if (!row) throw new SregistryError(`${query} not found`, { code: "NOT_FOUND" });
  const from = existingImage(row, query);
  const to = targetPath(from, destination);
  const crossDevice = statSync(from).dev !== statSync(dirname(to)).dev;
  const copy = crossDevice ? await copyBeside(from, to) : undefined;
  const tombs: string[] = [];
  try {
    const updated = await withFileSteps(catalog, async (undo, tx) => {
      const current = await tx.getContainerById(row.id);
      if (current?.image !== from) throw new SregistryError(`${query} changed while moving; try again`);
      if (copy) {
        renameIntoPlace(copy, to, undo);
        const tomb = setAside(from, undo);
        if (tomb) tombs.push(tomb);
      } else {
        renameIntoPlace(from, to, undo);
      }
      return (await tx.updateContainer(row.id, { image: to })) as ContainerRow;
    });
    await finishFileSteps(catalog, tombs, storageCleanup(from, ctx.settings.storageDir));
    return { from, to, row: updated };
  } finally {
    if (copy) await rm(copy, { force: true });
  }
}

/** The row's image path, which must exist. */
export function existingImage(row: ContainerRow, query: string): string {
  if (!row.image) {
    throw new SregistryError(`${query} is a remote record (${row.url ?? "no url"}); it has no image file`, {
      code: "NOT_FOUND",
    });
  }
  if (!existsSync(row.image)) {
    throw new SregistryError(`image file ${row.image} of ${query} does not exist on the file system`, {
      code: "NOT_FOUND",
    });
  }
  return row.image;
}

/** The final path: inside `destination` when it is a folder, else `destination` itself. */
function targetPath(from: string, destination: string): string {
  const wanted = resolve(destination);
  const isDir = statOrUndefined(wanted)?.isDirectory() ?? false;
  const to = isDir ? join(wanted, basename(from)) : wanted;
  const folder = dirname(to);
  if (!statOrUndefined(folder)?.isDirectory()) {
    throw new SregistryError(`Destination directory ${folder} does not exist`, { code: "NOT_WRITABLE" });
  }
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch {
    throw new SregistryError(`Destination directory ${folder} is not writable`, { code: "NOT_WRITABLE" });
  }
  if (to === from) throw new SregistryError(`${from} is already there`, { code: "EXISTS" });
  if (existsSync(to)) throw new SregistryError(`${to} already exists; not replacing it`, { code: "EXISTS" });
  return to;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Copies `from` into a hidden temp file in `to`'s folder and flushes it; returns the temp path. */
async function copyBeside(from: string, to: string): Promise<string> {
  const temp = siblingTempPath(to);
  try {
    await copyFile(from, temp);
    const handle = await open(temp, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(temp, { force: true });
    throw new SregistryError(`cannot copy ${from} to ${dirname(to)}: ${(err as Error).message}`, {
      code: "IO",
      cause: err,
    });
  }
  return temp;
}
