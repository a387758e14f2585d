/**
 * Opens the catalog the settings name: PostgreSQL when `SREGISTRY_DATABASE` is a
 * `postgresql://`/`postgres://` URL, else the SQLite file `sregistry.db` in the database folder.
 * A PostgreSQL catalog connects (and migrates) on first use, not here.
 *
 * @example
 * ```ts
 * const catalog = connectCatalog(settings);
 * catalog.backend().kind; // "postgresql" or "sqlite"
 * ```
 */
import type { Settings } from "../config/types.js";
import { Catalog } from "./catalog.js";
import { openCatalog } from "./database.js";
import { PostgresDriver } from "./postgres-driver.js";
import { parsePostgresUrl, type PostgresEnv } from "./postgres-url.js";

export function connectCatalog(
  settings: Pick<Settings, "databaseUrl" | "databasePath" | "home">,
  env: NodeJS.ProcessEnv = process.env,
): Catalog {
  if (settings.databaseUrl !== undefined) {
    const context: PostgresEnv = { env, home: settings.home };
    return new Catalog(new PostgresDriver(parsePostgresUrl(settings.databaseUrl, context)));
  }
  return openCatalog(settings.databasePath);
}
