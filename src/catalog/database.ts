/**
 * Opens (and when needed creates) the `sregistry.db` catalog file.
 *
 * Connection settings: `busy_timeout` 10 s (concurrent processes wait instead of failing), foreign
 * keys on, and a journal chosen by where the file lives (catalog-storage.ts): WAL on a local disk
 * (readers never block the writer); on a network filesystem (NFS home directories, Lustre, GPFS…)
 * the rollback journal (`journal_mode=DELETE`), since WAL's shared memory cannot work across hosts,
 * with every write transaction also serialised by a lease lock file next to the database, which
 * works across hosts where POSIX locks over NFS may not. Schema changes run through an ordered migration
 * list recorded in `sregistry_migrations`; each pending step runs in one `BEGIN IMMEDIATE` transaction
 * with `CREATE TABLE IF NOT EXISTS`, so two processes creating a fresh database at once are safe, and a
 * database the original tool made (tables present, no migrations table) is adopted as is.
 *
 * @example
 * ```ts
 * const catalog = openCatalog(join(settings.database, "sregistry.db"));
 * try { console.log((await catalog.listContainers()).length); } finally { await catalog.close(); }
 * const readOnly = openCatalog(path, { readonly: true }); // no pragmas that write, no migrations
 * catalogStorageOf(catalog)?.journal; // "wal" on a local disk, "delete" on NFS/Lustre/GPFS
 * ```
 */
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type BetterSqlite3 from "better-sqlite3";
import { SregistryError } from "../util/errors.js";
import type { StatfsFn } from "../util/filesystem.js";
import { Catalog } from "./catalog.js";
import { type CatalogStorage, catalogStorage, serialiseWriters } from "./catalog-storage.js";
import { SqliteDriver } from "./sqlite-driver.js";
import { MIGRATIONS, MIGRATIONS_DDL, type Migration } from "./schema.js";
import { formatDbTimestamp } from "./timestamps.js";

export interface OpenCatalogOptions {
  readonly?: boolean;
  /** Filesystem probe (tests pretend the catalog is on NFS or Lustre). */
  statfs?: StatfsFn;
  /** How long a writer waits for another host's write lease; default 30 s. */
  lockTimeoutMs?: number;
}

const storageOf = new WeakMap<Catalog, CatalogStorage>();

/** How an open catalog is stored: journal mode, filesystem, the writers' lock file if any. */
export function catalogStorageOf(catalog: Catalog): CatalogStorage | undefined {
  return storageOf.get(catalog);
}

export const BUSY_TIMEOUT_MS = 10_000;

/** The SQLite connection of a catalog opened by `openCatalog` (tests, diagnostics). */
export function sqliteOf(catalog: Catalog): BetterSqlite3.Database {
  if (!(catalog.driver instanceof SqliteDriver)) throw new Error("not an SQLite catalog");
  return catalog.driver.db;
}

/** Opens the catalog at `dbPath`; the parent folder must exist (as the original requires). */
export function openCatalog(dbPath: string, options: OpenCatalogOptions = {}): Catalog {
  const location = dirname(resolve(dbPath));
  if (!existsSync(location) || !statSync(location).isDirectory()) {
    throw new SregistryError(`Database location ${location} does not exist.`, { code: "DATABASE" });
  }
  const storage = catalogStorage(dbPath, options.statfs);
  const db = connect(dbPath, options.readonly === true);
  try {
    const runLocked =
      storage.lockPath === undefined
        ? <T>(fn: () => T): T => fn()
        : serialiseWriters(db, storage.lockPath, { timeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS });
    if (!options.readonly) {
      setJournalMode(db, storage.journal, runLocked);
      migrate(db, MIGRATIONS);
    }
  } catch (err) {
    db.close();
    throw wrapError(err, dbPath);
  }
  const catalog = new Catalog(
    new SqliteDriver(db, storage, { lockTimeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS }),
  );
  storageOf.set(catalog, storage);
  return catalog;
}

const LOCK_TIMEOUT_MS = 30_000;

function connect(dbPath: string, readonly: boolean): BetterSqlite3.Database {
  try {
    const binding = sqliteAddonPath();
    const db = new Database(dbPath, {
      readonly,
      fileMustExist: readonly,
      timeout: BUSY_TIMEOUT_MS,
      ...(binding === undefined ? {} : { nativeBinding: binding }),
    });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("foreign_keys = ON");
    return db;
  } catch (err) {
    throw wrapError(err, dbPath);
  }
}

let addonPath: string | null | undefined;

/**
 * better-sqlite3's compiled addon, resolved directly. Without `nativeBinding` the driver asks the
 * `bindings` package, which builds a stack trace to find the caller's package and tries a dozen
 * candidate paths on disk at every start; `build/Release` is where `npm install` (node-gyp or
 * prebuild-install) puts it. Anywhere else (a debug build, a bundler's layout), undefined: the
 * driver's own search runs as before.
 */
export function sqliteAddonPath(): string | undefined {
  if (addonPath === undefined) {
    try {
      addonPath = createRequire(import.meta.url).resolve("better-sqlite3/build/Release/better_sqlite3.node");
    } catch {
      addonPath = null;
    }
  }
  return addonPath ?? undefined;
}

function wrapError(err: unknown, dbPath: string): Error {
  if (err instanceof SregistryError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SregistryError(`Cannot open database ${dbPath}: ${reason}`, { code: "DATABASE", cause: err });
}

/**
 * Switching the journal needs a moment of exclusive access; another process switching at the same
 * time may report busy. On a network filesystem the switch runs under the writers' lease (the
 * patched `transaction`), and a fresh database never leaves DELETE mode, so no -wal/-shm appears.
 */
function setJournalMode(
  db: BetterSqlite3.Database,
  journal: "wal" | "delete",
  runLocked: <T>(fn: () => T) => T,
): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      if (journal === "wal") db.pragma("journal_mode = WAL");
      else if (db.pragma("journal_mode", { simple: true }) !== "delete") {
        // A catalog made in WAL mode on a local disk and then moved: convert it once, under the lease.
        runLocked(() => db.pragma("journal_mode = DELETE"));
      }
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
