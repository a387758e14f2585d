/**
 * The SQLite engine behind the catalog (better-sqlite3; see database.ts for how the file is opened
 * and migrated). Statements are synchronous underneath and wrapped in promises for the common
 * interface (sql.ts).
 *
 * A write transaction is `BEGIN IMMEDIATE` … `COMMIT`: SQLite takes the database's write lock at
 * once, so two processes never both read-then-write and one of them fails with SQLITE_BUSY at
 * commit; others wait on the busy timeout. On a network filesystem the writers' lease file is held
 * around it (catalog-storage.ts). The connection is one per process, so this process's
 * transactions are queued (`Serialiser`): an `await` inside one must not let another `BEGIN`.
 *
 * @example
 * ```ts
 * const driver = new SqliteDriver(db, storage, { lockTimeoutMs: 30_000 });
 * await driver.transaction(async (tx) => tx.run("DELETE FROM container WHERE id = ?", [1]));
 * ```
 */
import type BetterSqlite3 from "better-sqlite3";
import { acquireLeaseSync } from "../util/lease-lock.js";
import { type CatalogStorage, WRITE_LEASE_MS, describeCatalogStorage } from "./catalog-storage.js";
import {
  type CatalogBackendInfo,
  Serialiser,
  type SqlDriver,
  type SqlParam,
  type SqlSession,
} from "./sql.js";

export class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite";
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly queue = new Serialiser();

  constructor(
    /** The open connection (tests reach SQLite-only pragmas through it). */
    readonly db: BetterSqlite3.Database,
    readonly storage: CatalogStorage,
    private readonly options: { lockTimeoutMs: number },
  ) {}

  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return attempt(() => this.stmt(sql).get(...params) as T | undefined);
  }

  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return attempt(() => this.stmt(sql).all(...params) as T[]);
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return attempt(() => this.stmt(sql).run(...params).changes);
  }

  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const lease =
        this.storage.lockPath === undefined
          ? undefined
          : acquireLeaseSync(this.storage.lockPath, {
              leaseMs: WRITE_LEASE_MS,
              timeoutMs: this.options.lockTimeoutMs,
            });
      try {
        this.db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(this);
          this.db.exec("COMMIT");
          return result;
        } catch (err) {
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
          throw err;
        }
      } finally {
        lease?.release();
      }
    });
  }

  info(): CatalogBackendInfo {
    return { kind: "sqlite", location: this.db.name, description: describeCatalogStorage(this.storage) };
  }

  close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  private stmt(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** A synchronous call as a promise, so a throw becomes a rejection like any driver's. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
