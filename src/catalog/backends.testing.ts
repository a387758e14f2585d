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
import { execFileSync } from "node:child_process";
import { postgresBinDir, startPostgres, type PostgresServer } from "../../test/harness/postgres.js";
import { Catalog } from "./catalog.js";
import { PostgresDriver } from "./postgres-driver.js";
import { parsePostgresUrl } from "./postgres-url.js";
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
  describe("postgresql", { skip: postgresBinDir() === undefined && "PostgreSQL is not installed" }, () => {
    const backend = postgresBackend();
    suite(backend);
  });
}

/** A PostgreSQL server for this test file, started before its first test and removed after the last. */
export function postgresForFile(): () => PostgresServer {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error("the PostgreSQL server is not running");
    return server;
  };
}

function postgresBackend(): TestBackend {
  const server = postgresForFile();
  let counter = 0;
  const fresh = (): Promise<string> => server().createDatabase(`catalog${++counter}`);
  const open = async (): Promise<Catalog> =>
    new Catalog(new PostgresDriver(parsePostgresUrl(await fresh(), { env: {}, home: "/nonexistent" })));
  return {
    name: "postgresql",
    open,
    async openOriginal() {
      const catalog = await open();
      await catalog.listContainers(); // creates the tables
      await exec(catalog, ORIGINAL_ROWS_SCRIPT);
      // Rows inserted with explicit ids leave the sequences behind; as after a data import.
      await exec(catalog, "SELECT setval('collection_id_seq', (SELECT max(id) FROM collection))");
      await exec(catalog, "SELECT setval('container_id_seq', (SELECT max(id) FROM container))");
      return catalog;
    },
    databaseSetting: fresh,
    outside: (catalog, sql) =>
      Promise.resolve(
        execFileSync("psql", [postgresUrlOf(catalog), "-X", "-q", "-A", "-t", "-F", "|", "-f", "-"], {
          input: sql,
          encoding: "utf8",
        }),
      ),
  };
}

/** The URL (with password) of a PostgreSQL catalog made here. */
function postgresUrlOf(catalog: Catalog): string {
  const driver = catalog.driver as PostgresDriver;
  const t = driver.target;
  return `postgresql://${t.user}:${t.password ?? ""}@${t.host}:${t.port}/${t.database}`;
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
