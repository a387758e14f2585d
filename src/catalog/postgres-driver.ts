/**
 * The PostgreSQL engine behind the catalog (node-postgres `pg`, a small pool).
 *
 * Coordination: every write transaction first takes a transaction-level advisory lock
 * (`pg_advisory_xact_lock`, https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS),
 * the same one for every writer of the database. So writers run one at a time — as SQLite's
 * `BEGIN IMMEDIATE` makes them — and the catalog's read-then-write steps (find or create a
 * collection, update or insert a row) never race into a unique-constraint error, whichever host
 * they run on; readers are never blocked (MVCC). The lock ends with the transaction, so a client
 * that dies never leaves it held. The file renames that commands do inside a catalog transaction
 * are thereby serialised across hosts too. Migrations run under a second advisory lock, so two
 * first uses at once do not both create the tables (`CREATE TABLE IF NOT EXISTS` alone is not
 * safe under concurrency in PostgreSQL).
 *
 * The schema is created on first use (lazily: constructing the driver opens no connection).
 * `created_at` is read as the server's text (`YYYY-MM-DD HH:MM:SS[.ffffff]`), as SQLite stores it.
 * A failure to connect becomes one line naming host, port, database and the server's reason.
 *
 * @example
 * ```ts
 * const driver = new PostgresDriver(parsePostgresUrl(process.env.SREGISTRY_DATABASE!));
 * const catalog = new Catalog(driver);
 * await catalog.listContainers(); // connects, migrates once, queries
 * ```
 */
import { createRequire } from "node:module";
import type pg from "pg";
import { SregistryError } from "../util/errors.js";
import { redact } from "../util/redact.js";
import type { PostgresTarget } from "./postgres-url.js";
import { MIGRATIONS, type Migration } from "./schema.js";
import {
  type CatalogBackendInfo,
  Serialiser,
  type SqlDriver,
  type SqlParam,
  type SqlSession,
} from "./sql.js";
import { formatDbTimestamp } from "./timestamps.js";

/** Connections per process: one for the running transaction, the others for reads. */
export const POOL_SIZE = 3;

/** Advisory lock keys (two int4): "SREG" and what the lock guards. */
const LOCK_CLASS = 0x53524547;
const WRITERS = 1;
const MIGRATION = 2;

const TIMESTAMP_OID = 1114;
/** SQLSTATE of a statement naming a table that does not exist. */
const UNDEFINED_TABLE = "42P01";

/**
 * node-postgres, loaded when a PostgreSQL catalog is constructed: its ~40 CommonJS modules are not
 * paid for by the commands of an SQLite catalog (ARCHITECTURE.md, "Start-up").
 */
function loadPg(): typeof pg {
  return createRequire(import.meta.url)("pg") as typeof pg;
}

/** `timestamp` columns as the server's text; every other type as node-postgres parses it. */
function typeParsers(driver: typeof pg): { getTypeParser: typeof pg.types.getTypeParser } {
  return {
    getTypeParser: ((oid: number, format?: string) =>
      oid === TIMESTAMP_OID
        ? (value: string) => value
        : driver.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
  };
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = "postgresql";
  private readonly pool: pg.Pool;
  private readonly queue = new Serialiser();
  private ready: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly target: PostgresTarget,
    private readonly migrations: readonly Migration[] = MIGRATIONS,
  ) {
    const driver = loadPg();
    this.pool = new driver.Pool({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      ...(target.password === undefined ? {} : { password: target.password }),
      ssl: target.ssl,
      max: POOL_SIZE,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 15_000,
      allowExitOnIdle: true,
      application_name: "sregistry",
      types: typeParsers(driver),
    });
    // An idle connection the server drops must not crash the process; the next query reconnects.
    this.pool.on("error", () => undefined);
  }

  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    await this.migrated();
    return (await this.query(this.pool, sql, params)).rows as T[];
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    await this.migrated();
    return (await this.query(this.pool, sql, params)).rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    await this.migrated();
    return this.queue.run(() => this.inTransaction(WRITERS, fn));
  }

  info(): CatalogBackendInfo {
    return postgresBackendInfo(this.target);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async inTransaction<T>(lock: number, fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    const session: SqlSession = {
      get: async <R>(sql: string, params: readonly SqlParam[] = []) =>
        (await this.query(client, sql, params)).rows[0] as R | undefined,
      all: async <R>(sql: string, params: readonly SqlParam[] = []) =>
        (await this.query(client, sql, params)).rows as R[],
      run: async (sql: string, params: readonly SqlParam[] = []) =>
        (await this.query(client, sql, params)).rowCount ?? 0,
    };
    let broken: unknown;
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, lock]);
      const result = await fn(session);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
      throw err;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** Creates or updates the schema once per process, under the migration lock. */
  private migrated(): Promise<void> {
    this.ready ??= this.migrate();
    return this.ready;
  }

  private async migrate(): Promise<void> {
    const pending = await this.pendingMigrations(this.pool);
    if (pending.length === 0) return;
    await this.inTransaction(MIGRATION, async (tx) => {
      await tx.run(
        "CREATE TABLE IF NOT EXISTS sregistry_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)",
      );
      // Read again under the lock: another process may have migrated since the first look.
      const done = new Set(
        (await tx.all<{ version: number }>("SELECT version FROM sregistry_migrations")).map((r) => r.version),
      );
      for (const migration of [...this.migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(migration.version)) continue;
        for (const sql of migration.postgresql) await tx.run(sql);
        await tx.run("INSERT INTO sregistry_migrations (version, applied_at) VALUES (?, ?)", [
          migration.version,
          formatDbTimestamp(),
        ]);
      }
    });
  }

  /**
   * One round trip in the usual case (the table exists): the versions are read directly, and
   * PostgreSQL's undefined_table error (SQLSTATE 42P01) means a fresh database, every step pending.
   */
  private async pendingMigrations(pool: pg.Pool): Promise<Migration[]> {
    let rows: { version: number }[];
    try {
      rows = (await this.query(pool, "SELECT version FROM sregistry_migrations", [])).rows as {
        version: number;
      }[];
    } catch (err) {
      if ((err as { code?: unknown }).code === UNDEFINED_TABLE) return [...this.migrations];
      throw err;
    }
    const done = new Set(rows.map((r) => r.version));
    return this.migrations.filter((m) => !done.has(m.version));
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.connectionError(err);
    }
  }

  private async query(
    on: pg.Pool | pg.PoolClient,
    sql: string,
    params: readonly SqlParam[],
  ): Promise<pg.QueryResult> {
    try {
      return await on.query(numbered(sql), [...params]);
    } catch (err) {
      throw isConnectionFailure(err) ? this.connectionError(err) : err;
    }
  }

  /** One line: where, the server's (or the network's) reason, what to do. */
  private connectionError(err: unknown): SregistryError {
    if (err instanceof SregistryError) return err;
    const { host, port, database, user } = this.target;
    const reason = redact(err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ");
    return new SregistryError(
      `Cannot use the PostgreSQL catalog at ${host}:${port}, database ${database}, user ${user}: ${reason}; ` +
        "check SREGISTRY_DATABASE, that the server runs and accepts this user (password from the URL, PGPASSWORD or ~/.pgpass)",
      { code: "DATABASE" },
    );
  }
}

/** What `backend status` and `--debug` say about a PostgreSQL catalog (no password, no connection). */
export function postgresBackendInfo(target: PostgresTarget): CatalogBackendInfo {
  const tls = target.ssl === false ? "TLS off" : `TLS sslmode=${target.sslmode}`;
  return {
    kind: "postgresql",
    location: target.display,
    description:
      `PostgreSQL at ${target.host}:${target.port}, database ${target.database}, user ${target.user} ` +
      `(pool of ${POOL_SIZE}, ${tls}; writers serialised by an advisory lock)`,
  };
}

/** `?` placeholders → `$1, $2, …` (the catalog's SQL has no `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Errors before a statement could run: network, TLS, authentication, a missing database. */
function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string")
    return err instanceof Error && /connect|terminated|timeout/i.test(err.message);
  // Class 08 connection exceptions, 28 invalid authorization, 3D000 no such database, 53300 too many connections.
  return /^(08|28)/.test(code) || code === "3D000" || code === "53300" || /^E[A-Z]+$/.test(code);
}
