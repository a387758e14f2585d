/**
 * `rename`: gives an image a new catalog uri, keeping its version, and moves its file to the new
 * uri's storage path (`<storage>/<collection>/<name>/<tag>@<version>.sif`).
 *
 * The collection is created when needed; the old collection row, when left empty, is deleted and
 * empty storage folders removed (the original left both behind: an empty collection row is
 * harmless to it, and it recreates one on demand). File and row change in one catalog
 * transaction: the file is renamed, then the row updated; if the catalog write fails the file is
 * moved back. A remote record (no file) is not renamed, as in the original: its name is the
 * registry's name, which its url keeps pointing at (NOT_FOUND; the CLI warns, exit 0). The new uri
 * may repeat the version but not name another one; an existing row with the new identity is
 * never overwritten.
 *
 * @example
 * ```ts
 * const renamed = await rename(ctx, "vsoch/hello-world:latest", "mine/hello:v1");
 * renamed.uri; // "mine/hello:v1@<same version>"
 * renamed.to;  // "<storage>/mine/hello/v1@<version>.sif"
 * ```
 */
import { existsSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { containerUri, type Catalog, type ContainerRow } from "../catalog/catalog.js";
import { storagePath } from "../catalog/storage.js";
import { formatCatalogUri, parseCatalogUri, type CatalogUri } from "../reference/catalog-uri.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { findContainer } from "./lookup.js";
import { existingImage } from "./mv.js";
import {
  finishFileSteps,
  renameIntoPlace,
  setAside,
  stageFile,
  storageCleanup,
  withFileSteps,
  type UndoList,
} from "./storage-ops.js";

export interface RenameResult {
  /** Old file path. */
  from: string;
  /** New file path. */
  to: string;
  /** The uri before. */
  oldUri: string;
  /** The uri after, `collection/name:tag[@version]`. */
  uri: string;
  row: ContainerRow;
}

export async function rename(ctx: Context, query: string, newUri: string): Promise<RenameResult> {
  const catalog = ctx.catalog();
  const row = await findContainer(catalog, query);
  if (!row) throw new SregistryError(`${query} not found`, { code: "NOT_FOUND" });
  const version = row.version ?? "";
  const target = targetUri(newUri, version);
  const oldUri = row.uri ?? containerUri(row);
  const from = existingImage(row, query);
  const to = storagePath(ctx.settings.storageDir, target);
  if (to === from) throw new SregistryError(`${query} is already named ${newUri}`);
  // A file outside storage on another filesystem is copied next to storage first (slow, no lock held).
  const crossDevice = !sameDevice(from, ctx.settings.storageDir);
  const stage = crossDevice ? await stageFile(from, ctx.settings.storageDir, { copy: true }) : undefined;
  const tombs: string[] = [];
  try {
    const updated = await withFileSteps(catalog, async (undo, tx) => {
      const current = await tx.getContainerById(row.id);
      if (!current || current.image !== row.image)
        throw new SregistryError(`${query} changed while renaming; try again`);
      await refuseExisting(tx, target, newUri);
      moveFile(from, to, stage, undo, tombs);
      const changed = (await tx.updateContainer(row.id, {
        collection: target.collection,
        name: target.name,
        tag: target.tag,
        image: to,
      })) as ContainerRow;
      if (changed.collection_id !== row.collection_id) await tx.deleteCollectionIfEmpty(row.collection_id);
      return changed;
    });
    await finishFileSteps(catalog, tombs, storageCleanup(from, ctx.settings.storageDir));
    return { from, to, oldUri, uri: updated.uri ?? formatCatalogUri(target), row: updated };
  } finally {
    if (stage) await rm(stage, { force: true });
  }
}

/** The new names with the row's version; a different version in `newUri` is refused. */
function targetUri(newUri: string, version: string): CatalogUri {
  const parsed = parseCatalogUri(newUri);
  if (parsed.version !== undefined && parsed.version !== version) {
    throw new SregistryError(`rename keeps the version; ${newUri} names another one (${version || "none"})`, {
      code: "BAD_REFERENCE",
    });
  }
  return version === "" ? { ...parsed, version: "" } : { ...parsed, version };
}

/** Refuses when a row with the target's collection/name/tag/version already exists. */
async function refuseExisting(catalog: Catalog, target: CatalogUri, newUri: string): Promise<void> {
  const clash = (await catalog.listContainers(target.name)).some(
    (r) =>
      r.collection === target.collection &&
      r.name === target.name &&
      r.tag === target.tag &&
      (r.version ?? "") === (target.version ?? ""),
  );
  if (clash) throw new SregistryError(`${newUri} already exists in the catalog`, { code: "EXISTS" });
}

function moveFile(
  from: string,
  to: string,
  stage: string | undefined,
  undo: UndoList,
  tombs: string[],
): void {
  if (stage === undefined) return renameIntoPlace(from, to, undo);
  renameIntoPlace(stage, to, undo);
  const tomb = setAside(from, undo);
  if (tomb) tombs.push(tomb);
}

/** True when `file` and the storage folder (or its nearest existing parent) share a filesystem. */
function sameDevice(file: string, storageDir: string): boolean {
  let dir = resolve(storageDir);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return statSync(file).dev === statSync(dir).dev;
}
