/**
 * Opens (and when needed creates) the `sregistry.db` catalog file.
 *
 * Connection settings: WAL journal (readers never block the writer), `busy_timeout` 10 s (concurrent
 * processes wait instead of failing), foreign keys on. Schema changes run through an ordered migration
 * list recorded in `sregistry_migrations`; each pending step runs in one `BEGIN IMMEDIATE` transaction
 * with `CREATE TABLE IF NOT EXISTS`, so two processes creating a fresh database at once are safe, and a
 * database the original tool made (tables present, no migrations table) is adopted as is.
 *
 * @example
 * ```ts
 * const catalog = openCatalog(join(settings.database, "sregistry.db"));
 * try { console.log(catalog.listContainers().length); } finally { catalog.close(); }
 * const readOnly = openCatalog(path, { readonly: true }); // no pragmas that write, no migrations
 * ```
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type BetterSqlite3 from "better-sqlite3";
import { SregistryError } from "../util/errors.js";
import { Catalog } from "./catalog.js";
import { MIGRATIONS, MIGRATIONS_DDL, type Migration } from "./schema.js";
import { formatDbTimestamp } from "./timestamps.js";

export interface OpenCatalogOptions {
  readonly?: boolean;
}

export const BUSY_TIMEOUT_MS = 10_000;

/** Opens the catalog at `dbPath`; the parent folder must exist (as the original requires). */
export function openCatalog(dbPath: string, options: OpenCatalogOptions = {}): Catalog {
  const location = dirname(resolve(dbPath));
  if (!existsSync(location) || !statSync(location).isDirectory()) {
    throw new SregistryError(`Database location ${location} does not exist.`, { code: "NO_DATABASE_DIR" });
  }
  const db = connect(dbPath, options.readonly === true);
  try {
    if (!options.readonly) {
      setJournalModeWal(db);
      migrate(db, MIGRATIONS);
    }
  } catch (err) {
    db.close();
    throw wrapError(err, dbPath);
  }
  return new Catalog(db);
}

function connect(dbPath: string, readonly: boolean): BetterSqlite3.Database {
  try {
    const db = new Database(dbPath, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("foreign_keys = ON");
    return db;
  } catch (err) {
    throw wrapError(err, dbPath);
  }
}

function wrapError(err: unknown, dbPath: string): Error {
  if (err instanceof SregistryError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SregistryError(`Cannot open database ${dbPath}: ${reason}`, { code: "DATABASE", cause: err });
}

/** WAL needs a moment of exclusive access; another process switching at the same time may report busy. */
function setJournalModeWal(db: BetterSqlite3.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
      sleepMs(20);
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Versions already recorded; empty when the bookkeeping table does not exist yet. */
export function appliedVersions(db: BetterSqlite3.Database): Set<number> {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sregistry_migrations'")
    .get();
  if (!table) return new Set();
  const rows = db.prepare("SELECT version FROM sregistry_migrations").all() as { version: number }[];
  return new Set(rows.map((row) => row.version));
}

/** Applies every migration not yet recorded, in version order, each inside BEGIN IMMEDIATE. */
export function migrate(db: BetterSqlite3.Database, migrations: readonly Migration[]): number[] {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const known = appliedVersions(db);
  if (ordered.every((m) => known.has(m.version))) return [];
  const applied: number[] = [];
  db.transaction(() => {
    db.exec(MIGRATIONS_DDL);
    // Re-read inside the lock: another process may have migrated since our first look.
    const done = appliedVersions(db);
    const record = db.prepare("INSERT INTO sregistry_migrations (version, applied_at) VALUES (?, ?)");
    for (const migration of ordered) {
      if (done.has(migration.version)) continue;
      for (const sql of migration.sql) db.exec(sql);
      record.run(migration.version, formatDbTimestamp());
      applied.push(migration.version);
    }
  }).immediate();
  return applied;
}
