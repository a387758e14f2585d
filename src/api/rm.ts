/**
 * `rm` (alias `rmi`): deletes an image's catalog row and its file.
 *
 * The row and the file go together (one catalog transaction; the file is renamed aside first and
 * put back if the catalog write fails), then the storage folders and the collection row left
 * empty are removed. Removing a remote record is a plain success (the original deleted the row,
 * then exited 1 with "No … record found"). A row whose file is already gone is removed too and
 * reported in `fileMissing`; the CLI prints a WARNING and exits 1, as the original did. Empty
 * folders and collection rows no longer pile up (the original kept them; it recreates a
 * collection row on demand, so their absence is harmless to it).
 *
 * @example
 * ```ts
 * const result = rm(ctx, "vsoch/hello-world:latest");
 * result.location;    // the path (or the manifest URL of a remote record) that was removed
 * result.fileMissing; // true when the row pointed at a file that no longer existed
 * ```
 */
import type { ContainerRow } from "../catalog/catalog.js";
import { containerUri } from "../catalog/catalog.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { findContainer } from "./lookup.js";
import { finishFileSteps, setAside, storageCleanup, withFileSteps } from "./storage-ops.js";

export interface RemoveResult {
  /** The removed row (as it was). */
  row: ContainerRow;
  /** `collection/name:tag[@version]` of the removed row. */
  uri: string;
  /** What `get` printed for it: the image path, else the url. */
  location: string | null;
  /** True when the row had an image path but the file was not there. */
  fileMissing: boolean;
  /** True when the collection row was deleted because it became empty. */
  collectionRemoved: boolean;
}

export async function rm(ctx: Context, query: string): Promise<RemoveResult> {
  const catalog = ctx.catalog();
  const tombs: string[] = [];
  let fileMissing = false;
  let collectionRemoved = false;
  const row = await withFileSteps(catalog, async (undo, tx) => {
    // Looked up under the lock, so a concurrent rm of the same image cannot remove it twice.
    const found = await findContainer(tx, query);
    if (!found) throw new SregistryError(`No ${query} record found in the database`, { code: "NOT_FOUND" });
    await tx.deleteContainer(found.id);
    collectionRemoved = await tx.deleteCollectionIfEmpty(found.collection_id);
    if (found.image) {
      const tomb = setAside(found.image, undo);
      if (tomb) tombs.push(tomb);
      else fileMissing = true;
    }
    return found;
  });
  const dirs = row.image ? storageCleanup(row.image, ctx.settings.storageDir) : [];
  await finishFileSteps(catalog, tombs, dirs);
  return {
    row,
    uri: row.uri ?? containerUri(row),
    location: row.image ?? row.url,
    fileMissing,
    collectionRemoved,
  };
}
