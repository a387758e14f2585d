/**
 * How the SQLite catalog is kept safe where it lives: WAL on a local disk, the rollback journal plus
 * a cross-host writers' lease on a network filesystem.
 *
 * WAL keeps its index in a shared-memory file (`-shm`) that every process must map, which is not
 * possible across hosts: SQLite's documentation says WAL "does not work over a network filesystem"
 * (https://www.sqlite.org/wal.html), and users of Lustre and GPFS report "database disk image is
 * malformed" and SQLITE_PROTOCOL. The rollback journal (`journal_mode=DELETE`,
 * https://www.sqlite.org/pragma.html#pragma_journal_mode) relies only on POSIX advisory locks,
 * which NFS implements through its lock manager but which are unreliable on some mounts (`nolock`,
 * `local_lock`, old servers; https://www.sqlite.org/howtocorrupt.html §2.1). So on a network
 * filesystem every write transaction additionally holds a lease lock file
 * (`<db>.sregistry-lock`, util/lease-lock.ts) created exclusively, with host, pid and expiry:
 * writers on different nodes are serialised even where `fcntl` locks lie, and a node that died
 * holding it blocks the others only until its lease expires.
 *
 * The lock is taken around the outermost transaction only (savepoints run inside it) and before
 * SQLite's `BEGIN`, so it never waits while holding a SQLite lock. Transactions are milliseconds
 * long, so the lease (30 s) is never renewed; a writer that cannot get it within the timeout fails
 * with one line naming the lock and its holder's host.
 *
 * @example
 * ```ts
 * const storage = catalogStorage("/nfs/home/u/.singularity/sregistry.db");
 * storage.journal; // "delete"; storage.lockPath: ".../sregistry.db.sregistry-lock"
 * const runLocked = serialiseWriters(db, storage.lockPath!, { timeoutMs: 30_000 });
 * ```
 */
import type BetterSqlite3 from "better-sqlite3";
import { filesystemOf, type StatfsFn } from "../util/filesystem.js";
import { acquireLeaseSync } from "../util/lease-lock.js";

export interface CatalogStorage {
  /** SQLite journal mode in use. */
  journal: "wal" | "delete";
  /** Filesystem name (`ext4`, `nfs`, `lustre`, ...). */
  filesystem: string;
  network: boolean;
  /** The writers' lease lock, on a network filesystem only. */
  lockPath?: string;
}

/** Lease of one write transaction; far longer than any, short enough for a crashed node. */
export const WRITE_LEASE_MS = 30_000;

/** The journal mode and lock the catalog at `dbPath` gets, from the filesystem it is on. */
export function catalogStorage(dbPath: string, statfs?: StatfsFn): CatalogStorage {
  const fs = filesystemOf(dbPath, statfs);
  if (!fs.network) return { journal: "wal", filesystem: fs.name, network: false };
  return { journal: "delete", filesystem: fs.name, network: true, lockPath: `${dbPath}.sregistry-lock` };
}

/** One line for `--debug` and `backend status`. */
export function describeCatalogStorage(storage: CatalogStorage): string {
  return storage.network
    ? `journal delete (network filesystem ${storage.filesystem}; writers serialised by ${storage.lockPath})`
    : `journal wal (local filesystem ${storage.filesystem})`;
}

type TransactionFn = BetterSqlite3.Database["transaction"];
const VARIANTS = ["default", "deferred", "immediate", "exclusive"] as const;

/**
 * Makes every outermost `db.transaction(...)` call hold the lease at `lockPath`, and returns a
 * runner for other writes (such as the journal-mode switch) that need it too.
 */
export function serialiseWriters(
  db: BetterSqlite3.Database,
  lockPath: string,
  options: { timeoutMs: number },
): <T>(fn: () => T) => T {
  const runLocked = <T>(fn: () => T): T => {
    if (db.inTransaction) return fn();
    const lease = acquireLeaseSync(lockPath, { leaseMs: WRITE_LEASE_MS, timeoutMs: options.timeoutMs });
    try {
      return fn();
    } finally {
      lease.release();
    }
  };
  const original = db.transaction.bind(db) as TransactionFn;
  const locked = ((fn: (...args: unknown[]) => unknown) => {
    const txn = original(fn);
    const wrapped = ((...args: unknown[]) => runLocked(() => txn(...args))) as typeof txn;
    for (const variant of VARIANTS) {
      const inner = txn[variant];
      Object.defineProperty(wrapped, variant, {
        value: (...args: unknown[]) => runLocked(() => inner(...args)),
      });
    }
    return wrapped;
  }) as TransactionFn;
  db.transaction = locked;
  return runLocked;
}
