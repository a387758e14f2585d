/**
 * Where the catalog lives and how it is kept safe there (journal mode, filesystem, writers' lock),
 * for `backend status` and `--debug`, computed without opening (or creating) the database.
 *
 * @example
 * ```ts
 * const info = catalogStorageInfo(ctx);
 * info?.journal; // "wal" on a local disk, "delete" on NFS, Lustre, GPFS, ...
 * ```
 */
import { type CatalogStorage, catalogStorage, describeCatalogStorage } from "../catalog/catalog-storage.js";
import type { Context } from "./context.js";

export interface CatalogStorageInfo extends CatalogStorage {
  path: string;
  /** One line: "journal wal (local filesystem ext4)". */
  description: string;
}

/** Undefined when the catalog is disabled (SREGISTRY_DISABLE). */
export function catalogStorageInfo(ctx: Context): CatalogStorageInfo | undefined {
  if (!ctx.catalogEnabled) return undefined;
  const path = ctx.settings.databasePath;
  const storage = catalogStorage(path);
  return { ...storage, path, description: describeCatalogStorage(storage) };
}
