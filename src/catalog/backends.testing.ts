/**
 * Runs a catalog test suite against every engine the catalog supports: SQLite always, PostgreSQL
 * when its server programs are installed (Debian `postgresql`; test/harness/postgres.ts starts a
 * throw-away server once per test file). Each `open()` gives a fresh, empty catalog of its own.
 *
 * @example
 * ```ts
 * forEachBackend((backend) => {
 *   it("stores a row", async () => {
 *     const catalog = await backend.open();
 *     try { await catalog.upsertContainer(row); } finally { await catalog.close(); }
 *   });
 * });
 * ```
 */
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import type { Catalog } from "./catalog.js";
import { ORIGINAL_DDL_SCRIPT, ORIGINAL_ROWS_SCRIPT, makeTempDir, sqliteCli } from "./catalog.testing.js";
import { openCatalog, sqliteOf } from "./database.js";

export type TriggeredStatement = "INSERT" | "UPDATE" | "DELETE";

export interface TestBackend {
  readonly name: "sqlite" | "postgresql";
  /** A fresh, empty catalog. */
  open(): Promise<Catalog>;
  /** A fresh catalog holding the original tool's rows (catalog.testing.ts ORIGINAL_ROWS_SCRIPT). */
  openOriginal(): Promise<Catalog>;
  /** `SREGISTRY_DATABASE` for a fresh catalog: a folder (SQLite) or a URL (PostgreSQL). */
  databaseSetting(): Promise<string>;
  /** Rows as `a|b` lines, read by another program (sqlite3, psql): what a committed change looks like. */
  outside(catalog: Catalog, sql: string): Promise<string>;
}

/** Runs SQL on the catalog's own connection (test set-up). */
export async function exec(catalog: Catalog, sql: string): Promise<void> {
  await catalog.driver.run(sql);
}

/** Makes every `statement` on `container` fail with `message`, an error raised by the engine itself. */
export async function failWrites(
  catalog: Catalog,
  statement: TriggeredStatement,
  message: string,
): Promise<void> {
  if (catalog.driver.dialect === "sqlite") {
    await exec(
      catalog,
      `CREATE TRIGGER boom BEFORE ${statement} ON container BEGIN SELECT RAISE(ABORT, '${message}'); END`,
    );
    return;
  }
  await exec(
    catalog,
    `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$`,
  );
  await exec(
    catalog,
    `CREATE TRIGGER boom BEFORE ${statement} ON container FOR EACH ROW EXECUTE FUNCTION boom()`,
  );
}

/** Defines `suite` once per available engine, inside a `describe` named after it. */
export function forEachBackend(suite: (backend: TestBackend) => void): void {
  describe("sqlite", () => {
    const backend = sqliteBackend();
    suite(backend);
  });
}

function sqliteBackend(): TestBackend & { dir?: string } {
  let dir = "";
  let counter = 0;
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const fresh = (): string => {
    const folder = join(dir, `db${++counter}`);
    mkdirSync(folder);
    return folder;
  };
  return {
    name: "sqlite",
    open: () => Promise.resolve(openCatalog(join(fresh(), "sregistry.db"))),
    openOriginal: () => {
      const path = join(fresh(), "sregistry.db");
      sqliteCli(path, ORIGINAL_DDL_SCRIPT + ORIGINAL_ROWS_SCRIPT);
      return Promise.resolve(openCatalog(path));
    },
    databaseSetting: () => Promise.resolve(fresh()),
    outside: (catalog, sql) => Promise.resolve(sqliteCli(sqliteOf(catalog).name, sql)),
  };
}
