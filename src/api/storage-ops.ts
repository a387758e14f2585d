/**
 * File changes that must agree with the catalog: done under the catalog's write lock, undone when
 * the catalog change fails, so a file and its row never disagree.
 *
 * Pattern used by add, mv, rename and rm:
 * 1. slow work outside the lock: hashing, and copying into a staging file on the target's
 *    filesystem (`stageFile`, a hidden name in the storage root, which no cleanup ever removes);
 * 2. `withFileSteps`: one catalog write transaction in which only renames happen (fast), each
 *    registering its undo; if the row change or the commit fails, the undos run in reverse order;
 * 3. `finishFileSteps`: after the commit, delete the renamed-away old files ("tombstones") and
 *    remove storage folders left empty — again under the lock, so a concurrent `add` can never
 *    see its target folder vanish between creating it and renaming into it.
 * Processes of this tool therefore never race on storage; only a crash between 2 and 3 can leave
 * a hidden `*.sregistry-old-*` file behind.
 *
 * @example
 * ```ts
 * const stage = await stageFile(src, settings.storageDir, { copy: true });
 * const tombs: string[] = [];
 * await withFileSteps(catalog, async (undo, tx) => {
 *   renameIntoPlace(stage, target, undo);
 *   return tx.upsertContainer(row);
 * });
 * await finishFileSteps(catalog, tombs, []);
 * ```
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Catalog } from "../catalog/catalog.js";
import { isInside, placeFile, removeEmptyDirs } from "../catalog/storage.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { unlinkQuietlySync } from "../util/filesystem.js";

/** Undo actions registered while changing files; run newest first on failure. */
export type UndoList = Array<() => void>;

/** Folders to clean after a change: `from` and its parents while empty, up to (not including) `upTo`. */
export interface EmptyDirCleanup {
  from: string;
  upTo: string;
}

/** Prefix of staging files in the storage root. */
export const STAGE_PREFIX = ".sregistry-stage-";

/** Moves or copies `src` into a fresh hidden file in `storageDir` (created if needed); returns its path. */
export async function stageFile(
  src: string,
  storageDir: string,
  options: { copy: boolean },
): Promise<string> {
  const stage = join(resolve(storageDir), `${STAGE_PREFIX}${randomBytes(8).toString("hex")}`);
  await placeFile(src, stage, { copy: options.copy });
  return stage;
}

/** Gives a staged file back: moved back to where it came from, or deleted when it was a copy. */
export async function unstageFile(stage: string, src: string, options: { copy: boolean }): Promise<void> {
  if (options.copy) await rm(stage, { force: true });
  else await placeFile(stage, src, { copy: false });
}

/**
 * Runs `fn` in one catalog transaction. `fn` changes files only through helpers that push their
 * undo onto the list; when `fn` or the commit throws, every undo runs (newest first) and the error
 * is rethrown — with a note naming any file an undo could not put back.
 */
export async function withFileSteps<T>(
  catalog: Catalog,
  fn: (undo: UndoList, tx: Catalog) => Promise<T>,
): Promise<T> {
  const undo: UndoList = [];
  try {
    return await catalog.transaction((tx) => fn(undo, tx));
  } catch (err) {
    const failed = runUndo(undo);
    if (failed.length === 0) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new SregistryError(`${reason}; also could not restore: ${failed.join("; ")}`, {
      code: "INCONSISTENT",
      cause: err,
    });
  }
}

function runUndo(undo: UndoList): string[] {
  const failed: string[] = [];
  for (const step of [...undo].reverse()) {
    try {
      step();
    } catch (err) {
      failed.push(err instanceof Error ? err.message : String(err));
    }
  }
  return failed;
}

/** Renames `from` to `to` (folders created), refusing to replace an existing `to`; registers the undo. */
export function renameIntoPlace(from: string, to: string, undo: UndoList): void {
  if (existsSync(to)) throw new SregistryError(`${to} already exists`, { code: "EXISTS" });
  const created = mkdirSync(dirname(to), { recursive: true });
  renameSync(from, to);
  undo.push(() => {
    mkdirSync(dirname(from), { recursive: true });
    renameSync(to, from);
    // Folders made for `to` go too, so a failed change leaves no trace.
    if (created !== undefined) removeEmptyDirs(dirname(to), dirname(created));
  });
}

/**
 * Renames `path` to a hidden tombstone next to it (deleted by `finishFileSteps` after the commit);
 * registers the undo. Returns the tombstone, or undefined when `path` does not exist.
 */
export function setAside(path: string, undo: UndoList): string | undefined {
  const tomb = join(dirname(path), `.${basename(path)}.sregistry-old-${randomBytes(6).toString("hex")}`);
  try {
    renameSync(path, tomb);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return undefined;
    throw err;
  }
  undo.push(() => renameSync(tomb, path));
  return tomb;
}

/** After a commit: deletes tombstones and empty storage folders, under the catalog lock. */
export async function finishFileSteps(
  catalog: Catalog,
  tombs: readonly string[],
  dirs: readonly EmptyDirCleanup[],
): Promise<void> {
  if (tombs.length === 0 && dirs.length === 0) return;
  await catalog.transaction(() => {
    for (const tomb of tombs) unlinkQuietlySync(tomb);
    for (const dir of dirs) removeEmptyDirs(dir.from, dir.upTo);
    return Promise.resolve();
  });
}

/** The cleanup entry for the folder that held `image`, when it lies inside storage. */
export function storageCleanup(image: string, storageDir: string): EmptyDirCleanup[] {
  return isInside(image, storageDir) ? [{ from: dirname(image), upTo: storageDir }] : [];
}
