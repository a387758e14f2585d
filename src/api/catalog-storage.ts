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
import { postgresBackendInfo } from "../catalog/postgres-driver.js";
import { parsePostgresUrl } from "../catalog/postgres-url.js";
import type { Context } from "./context.js";

export interface CatalogStorageInfo extends Partial<CatalogStorage> {
  backend: "sqlite" | "postgresql";
  /** The SQLite file, or the PostgreSQL URL without its password. */
  path: string;
  /** One line: "journal wal (local filesystem ext4)", "PostgreSQL at db:5432, database …". */
  description: string;
}

/** Undefined when the catalog is disabled (SREGISTRY_DISABLE). */
export function catalogStorageInfo(ctx: Context): CatalogStorageInfo | undefined {
  if (!ctx.catalogEnabled) return undefined;
  if (ctx.settings.databaseUrl !== undefined) {
    const info = postgresBackendInfo(
      parsePostgresUrl(ctx.settings.databaseUrl, { env: ctx.env, home: ctx.settings.home }),
    );
    return { backend: "postgresql", path: info.location, description: info.description };
  }
  const path = ctx.settings.databasePath;
  const storage = catalogStorage(path);
  return { backend: "sqlite", ...storage, path, description: describeCatalogStorage(storage) };
}
