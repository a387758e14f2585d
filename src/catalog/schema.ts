/**
 * The catalog's table definitions, byte-identical to what the original tool (SQLAlchemy 1.4 `create_all`
 * on SQLite) writes, plus the ordered list of migrations this project applies on top.
 *
 * The DDL text matters: SQLite keeps it verbatim in `sqlite_master`, and keeping it identical means a
 * `sregistry.db` made by either tool is indistinguishable to the other. SQLAlchemy's `default=func.now()`
 * is a client-side default (the INSERT says `CURRENT_TIMESTAMP`), so no `DEFAULT` clause appears in the
 * DDL; we write `created_at` ourselves. Rule for later migrations: never change the original two tables
 * (the original would choke on them); extra data goes into `metrics` JSON or into new tables.
 *
 * @example
 * ```ts
 * db.exec(COLLECTION_DDL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
 * ```
 */

/** `sqlite_master.sql` of the `collection` table as the original creates it. */
export const COLLECTION_DDL = [
  "CREATE TABLE collection (",
  "\tid INTEGER NOT NULL, ",
  "\tname VARCHAR(150), ",
  "\ttoken VARCHAR(50), ",
  "\tcreated_at DATETIME, ",
  "\tPRIMARY KEY (id), ",
  "\tUNIQUE (name)",
  ")",
].join("\n");

/** `sqlite_master.sql` of the `container` table as the original creates it. */
export const CONTAINER_DDL = [
  "CREATE TABLE container (",
  "\tid INTEGER NOT NULL, ",
  "\tcreated_at DATETIME, ",
  "\tmetrics TEXT NOT NULL, ",
  "\tname VARCHAR(250) NOT NULL, ",
  "\ttag VARCHAR(250) NOT NULL, ",
  "\timage VARCHAR(250), ",
  "\turl VARCHAR(500), ",
  "\turi VARCHAR(500), ",
  "\tclient VARCHAR(50) NOT NULL, ",
  "\tversion VARCHAR(250), ",
  "\tcollection_id INTEGER NOT NULL, ",
  "\tPRIMARY KEY (id), ",
  "\tCONSTRAINT _container_uc UNIQUE (collection_id, name, tag, client, version), ",
  "\tFOREIGN KEY(collection_id) REFERENCES collection (id)",
  ")",
].join("\n");

/**
 * The same tables as SQLAlchemy 1.4 `create_all` makes them on PostgreSQL (Integer primary key →
 * SERIAL, DateTime → TIMESTAMP WITHOUT TIME ZONE), so the original's models read and write them.
 */
export const POSTGRES_COLLECTION_DDL = COLLECTION_DDL.replace(
  "id INTEGER NOT NULL",
  "id SERIAL NOT NULL",
).replace("created_at DATETIME", "created_at TIMESTAMP WITHOUT TIME ZONE");

export const POSTGRES_CONTAINER_DDL = CONTAINER_DDL.replace(
  "id INTEGER NOT NULL",
  "id SERIAL NOT NULL",
).replace("created_at DATETIME", "created_at TIMESTAMP WITHOUT TIME ZONE");

/** Our bookkeeping table; the original ignores tables it does not know. */
export const MIGRATIONS_DDL =
  "CREATE TABLE IF NOT EXISTS sregistry_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)";

/** One schema step; its statements run inside the migration transaction and must be idempotent. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** SQLite statements. */
  readonly sql: readonly string[];
  /** The same step for PostgreSQL. */
  readonly postgresql: readonly string[];
}

/** `CREATE TABLE x` → `CREATE TABLE IF NOT EXISTS x`; SQLite stores the text without the clause. */
export function ifNotExists(ddl: string): string {
  return ddl.replace(/^CREATE TABLE /, "CREATE TABLE IF NOT EXISTS ");
}

/** Applied in order; a version is never reused or edited once released. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "base tables of the original sregistry-cli",
    sql: [ifNotExists(COLLECTION_DDL), ifNotExists(CONTAINER_DDL)],
    postgresql: [ifNotExists(POSTGRES_COLLECTION_DDL), ifNotExists(POSTGRES_CONTAINER_DDL)],
  },
];
