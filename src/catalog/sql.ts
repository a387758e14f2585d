/**
 * The seam between the catalog's logic (catalog.ts) and the database engine that stores it: one
 * small asynchronous interface with two implementations, SQLite (sqlite-driver.ts, better-sqlite3)
 * and PostgreSQL (postgres-driver.ts, node-postgres). The catalog writes its SQL once, with `?`
 * placeholders; a driver translates what its engine needs (`$1, $2…` for PostgreSQL).
 *
 * `transaction` is a write transaction with one writer at a time across every process (and host)
 * using the catalog: SQLite's `BEGIN IMMEDIATE` (plus the writers' lease on a network filesystem),
 * PostgreSQL's transaction-level advisory lock. Within a process, transactions run one after the
 * other. Nesting is the catalog's business (it joins the running transaction).
 *
 * @example
 * ```ts
 * const n = await driver.transaction(async (tx) => tx.run("DELETE FROM container WHERE id = ?", [7]));
 * const rows = await driver.all<{ id: number }>("SELECT id FROM container ORDER BY id");
 * ```
 */

/** A value bound to a placeholder. */
export type SqlParam = string | number | null;

/** Statements on a connection, or inside a running transaction. */
export interface SqlSession {
  /** The first row, or undefined. */
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

/** What the catalog reports about where it lives (`backend status`, `--debug`); never a secret. */
export interface CatalogBackendInfo {
  kind: "sqlite" | "postgresql";
  /** The file path, or the server URL without its password. */
  location: string;
  /** One line: "journal wal (local filesystem ext4)", "PostgreSQL 15.8, pool of 3, TLS off". */
  description: string;
}

/** One database engine behind the catalog. */
export interface SqlDriver extends SqlSession {
  readonly dialect: "sqlite" | "postgresql";
  /** Runs `fn` in one write transaction (committed when it resolves, rolled back when it throws). */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  info(): CatalogBackendInfo;
  close(): Promise<void>;
}

/**
 * Runs async jobs one at a time, in call order: a catalog connection serves one transaction at a
 * time, and this process's transactions must queue rather than interleave.
 */
export class Serialiser {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
