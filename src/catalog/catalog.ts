/**
 * The local catalog: typed access to the original's `collection` and `container` tables.
 *
 * Semantics follow the original tool, with one rule of our own for names shared by a remote record
 * and a local image (see "Which row a name means" below). `listContainers` matches
 * `name == q OR tag LIKE %q% OR uri LIKE %q% OR name LIKE %q%`; `upsertContainer` updates the row with
 * the same collection/name/tag/version (whatever its client) and merges `metrics`, else inserts.
 * Every write runs in one write transaction of the engine behind it (sql.ts: SQLite or PostgreSQL),
 * one writer at a time, so concurrent processes queue instead of failing or racing. Every method is
 * asynchronous. Open one with `openCatalog` (database.ts) or `connectCatalog` (connect.ts).
 *
 * Which row a name means. The original's `get` without a version took the first row in the
 * unique index's order, so a remote record (version "") always won over a pulled image of the
 * same name, and `singularity run $(sregistry get …)` got a URL. Here:
 * - `getContainer` without a version prefers a row with a local file, the newest of them (latest
 *   `created_at`, then highest id); a remote record only when no local row exists;
 * - `upsertContainer` with a local file (`image` set) deletes the remote records (no file) of the
 *   same collection/name/tag in the same transaction: a pull of a recorded image turns the record
 *   into the local row, and `images` shows no stale remote row beside it.
 *
 * @example
 * ```ts
 * const catalog = openCatalog("/home/me/.singularity/sregistry.db");
 * const { row, created } = await catalog.upsertContainer({
 *   collection: "library", name: "busybox", tag: "latest", version: "77c5…", client: "docker",
 *   image: "/home/me/.singularity/shub/library/busybox/latest@77c5….sif", url: null, metrics: {},
 * });
 * (await catalog.getContainer({ collection: "library", name: "busybox", tag: "latest" }))?.image;
 * await catalog.transaction(async (tx) => { await tx.deleteContainer(3); await tx.deleteCollectionIfEmpty(1); });
 * ```
 */
import { randomUUID } from "node:crypto";
import { AsyncLocalStorage } from "node:async_hooks";
import { labelsFromMetrics, matchesLabel, type Label, type LabelQuery } from "./labels.js";
import { parsePythonJson, pythonJsonDumps } from "./python-json.js";
import type { CatalogBackendInfo, SqlDriver, SqlParam, SqlSession } from "./sql.js";
import { formatDbTimestamp } from "./timestamps.js";

export interface CollectionRow {
  id: number;
  name: string;
  token: string | null;
  created_at: string;
}

export interface ContainerRow {
  id: number;
  created_at: string;
  metrics: string;
  name: string;
  tag: string;
  image: string | null;
  url: string | null;
  uri: string | null;
  client: string;
  version: string | null;
  collection_id: number;
  /** Name of the collection the row belongs to (joined). */
  collection: string;
}

/** What the `images` table shows of a row. */
export type ContainerSummary = Pick<
  ContainerRow,
  "created_at" | "client" | "collection" | "name" | "tag" | "version"
>;

export interface ContainerQuery {
  collection: string;
  name: string;
  tag: string;
  /** Undefined or "" = any version (first in index order), as the original does. */
  version?: string;
}

export interface UpsertInput {
  collection: string;
  name: string;
  tag: string;
  /** "" for records without a file. */
  version: string;
  client: string;
  image: string | null;
  url: string | null;
  metrics: object;
}

/** Columns `updateContainer` may change; `collection` is a name (created when missing). */
export interface ContainerUpdate {
  collection?: string;
  name?: string;
  tag?: string;
  version?: string | null;
  client?: string;
  image?: string | null;
  url?: string | null;
  /** Explicit uri; when absent it is recomputed if collection/name/tag/version change. */
  uri?: string | null;
  /** An object (stored as Python-style JSON) or raw JSON text. */
  metrics?: object | string;
}

export interface LabelMatch extends Label {
  row: ContainerRow;
}

/** `collection/name:tag`, plus `@version` when the version is non-empty (the original's `get_uri`). */
export function containerUri(parts: {
  collection: string;
  name: string;
  tag: string;
  version?: string | null;
}): string {
  const base = `${parts.collection}/${parts.name}:${parts.tag}`;
  return parts.version ? `${base}@${parts.version}` : base;
}

/** Python `json.dumps(metadata)` text, as the original stores metrics. */
export function serializeMetrics(metrics: object | string): string {
  return typeof metrics === "string" ? metrics : pythonJsonDumps(metrics);
}

/** Parsed metrics, or undefined when the text is not JSON. */
export function parseMetrics(text: string): unknown {
  try {
    return parsePythonJson(text);
  } catch {
    return undefined;
  }
}

const SELECT_ROWS = `SELECT container.id, container.created_at, container.metrics, container.name,
  container.tag, container.image, container.url, container.uri, container.client, container.version,
  container.collection_id, collection.name AS collection
  FROM container JOIN collection ON collection.id = container.collection_id`;

const SELECT_SUMMARIES = `SELECT container.created_at, container.client, collection.name AS collection,
  container.name, container.tag, container.version
  FROM container JOIN collection ON collection.id = container.collection_id`;

// The original took the first row of its unique index (client, version); we take a row with a file
// first, newest first, so a remote record never shadows a pulled image (see the module comment).
const PREFERRED_ORDER = "ORDER BY container.image IS NULL, container.created_at DESC, container.id DESC";

interface RawContainerRow extends Omit<ContainerRow, "created_at" | "collection"> {
  created_at: string | null;
  collection: string | null;
}

type RawContainerSummary = Omit<ContainerSummary, "created_at" | "collection"> &
  Pick<RawContainerRow, "created_at" | "collection">;

const toRow = (raw: RawContainerRow): ContainerRow => ({
  ...raw,
  created_at: raw.created_at ?? "",
  collection: raw.collection ?? "",
});

export class Catalog {
  /** The transaction the current async call chain runs in, if any. */
  private readonly current = new AsyncLocalStorage<SqlSession>();

  constructor(
    /** The engine (SQLite or PostgreSQL); exposed for diagnostics and tests. */
    readonly driver: SqlDriver,
  ) {}

  /** Which engine holds the catalog and where (never a password). */
  backend(): CatalogBackendInfo {
    return this.driver.info();
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  /**
   * Runs `fn` in one write transaction: committed when it resolves, rolled back when it throws.
   * Catalog calls made while it runs (through `tx` or this object, from the same async chain) are
   * part of it; a `transaction` inside one joins it rather than nesting.
   */
  transaction<T>(fn: (tx: Catalog) => Promise<T>): Promise<T> {
    if (this.current.getStore()) return fn(this);
    return this.driver.transaction((session) => this.current.run(session, () => fn(this)));
  }

  /** The running transaction of this call chain, else the connection. */
  private get sql(): SqlSession {
    return this.current.getStore() ?? this.driver;
  }

  findCollection(name: string): Promise<CollectionRow | undefined> {
    return this.sql.get<CollectionRow>(
      "SELECT id, name, token, created_at FROM collection WHERE name = ? LIMIT 1",
      [name],
    );
  }

  findCollectionById(id: number): Promise<CollectionRow | undefined> {
    return this.sql.get<CollectionRow>("SELECT id, name, token, created_at FROM collection WHERE id = ?", [
      id,
    ]);
  }

  /** The collection named `name`, created with a random uuid4 token when missing. */
  getOrCreateCollection(name: string): Promise<CollectionRow> {
    return this.transaction(async () => {
      const existing = await this.findCollection(name);
      if (existing) return existing;
      await this.sql.run("INSERT INTO collection (name, token, created_at) VALUES (?, ?, ?)", [
        name,
        randomUUID(),
        formatDbTimestamp(),
      ]);
      return (await this.findCollection(name)) as CollectionRow;
    });
  }

  async getContainerById(id: number): Promise<ContainerRow | undefined> {
    const raw = await this.sql.get<RawContainerRow>(`${SELECT_ROWS} WHERE container.id = ?`, [id]);
    return raw && toRow(raw);
  }

  /** The original's `get`: collection by name, then the matching container (a local one first, newest first). */
  async getContainer(query: ContainerQuery): Promise<ContainerRow | undefined> {
    const collection = await this.findCollection(query.collection);
    if (!collection) return undefined;
    const where = "WHERE container.collection_id = ? AND container.name = ? AND container.tag = ?";
    const params: SqlParam[] = [collection.id, query.name, query.tag];
    const sql = query.version
      ? `${SELECT_ROWS} ${where} AND container.version = ? ${PREFERRED_ORDER} LIMIT 1`
      : `${SELECT_ROWS} ${where} ${PREFERRED_ORDER} LIMIT 1`;
    if (query.version) params.push(query.version);
    const raw = await this.sql.get<RawContainerRow>(sql, params);
    return raw && toRow(raw);
  }

  /** The rows with a local file of one collection/name/tag, newest first (`getContainer`'s order). */
  async localContainers(query: Omit<ContainerQuery, "version">): Promise<ContainerRow[]> {
    const collection = await this.findCollection(query.collection);
    if (!collection) return [];
    const raw = await this.sql.all<RawContainerRow>(
      `${SELECT_ROWS} WHERE container.collection_id = ? AND container.name = ? AND container.tag = ?
       AND container.image IS NOT NULL ${PREFERRED_ORDER}`,
      [collection.id, query.name, query.tag],
    );
    return raw.map(toRow);
  }

  /** The original's `images` match; no query, "" or "*" lists every row. Rows in id order. */
  async listContainers(query?: string): Promise<ContainerRow[]> {
    return (await this.sql.all<RawContainerRow>(...this.listing(SELECT_ROWS, query))).map(toRow);
  }

  /**
   * `listContainers` with only the columns the `images` table shows, in one query: a table of
   * 10,000 rows then reads no metrics, paths or URLs it would throw away.
   */
  async listContainerSummaries(query?: string): Promise<ContainerSummary[]> {
    const rows = await this.sql.all<RawContainerSummary>(...this.listing(SELECT_SUMMARIES, query));
    // Filled in place rather than copied: the rows are fresh objects of the driver's.
    for (const row of rows) {
      row.created_at ??= "";
      row.collection ??= "";
    }
    return rows as ContainerSummary[];
  }

  /** The statement and parameters of a listing (the original's match, see `listContainers`). */
  private listing(select: string, query: string | undefined): [string, SqlParam[]] {
    if (query === undefined || query === "" || query === "*") {
      return [`${select} ORDER BY container.id`, []];
    }
    // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE gives the same answers there.
    const like = this.driver.dialect === "postgresql" ? "ILIKE" : "LIKE";
    const sql = `${select} WHERE container.name = ? OR container.tag ${like} ? OR container.uri ${like} ?
      OR container.name ${like} ? ORDER BY container.id`;
    const pattern = `%${query}%`;
    return [sql, [query, pattern, pattern, pattern]];
  }

  /**
   * The original's `add` bookkeeping: update the row with the same collection/name/tag/version
   * (preferring one with the same client) — url, client, image (if given) set, metrics merged
   * key by key — or insert a new one with uri `collection/name:tag[@version]`. With a local file,
   * the remote records of the same collection/name/tag go (the file supersedes them).
   */
  upsertContainer(input: UpsertInput): Promise<{ row: ContainerRow; created: boolean }> {
    return this.transaction(async () => {
      const result = await this.upsertRow(input);
      if (input.image !== null) await this.deleteRemoteRecords(result.row);
      return result;
    });
  }

  /** Deletes rows without a file that share `local`'s collection, name and tag; returns how many. */
  private deleteRemoteRecords(local: ContainerRow): Promise<number> {
    return this.sql.run(
      `DELETE FROM container WHERE collection_id = ? AND name = ? AND tag = ? AND image IS NULL AND id != ?`,
      [local.collection_id, local.name, local.tag, local.id],
    );
  }

  private async upsertRow(input: UpsertInput): Promise<{ row: ContainerRow; created: boolean }> {
    const collection = await this.getOrCreateCollection(input.collection);
    const existing = await this.sql.get<{ id: number; metrics: string }>(
      `SELECT id, metrics FROM container WHERE collection_id = ? AND name = ? AND tag = ? AND version = ?
       ORDER BY client = ? DESC, client LIMIT 1`,
      [collection.id, input.name, input.tag, input.version, input.client],
    );
    if (existing) {
      const merged = { ...asObject(parseMetrics(existing.metrics)), ...input.metrics };
      await this.sql.run(
        "UPDATE container SET url = ?, client = ?, image = COALESCE(?, image), metrics = ? WHERE id = ?",
        [input.url, input.client, input.image, serializeMetrics(merged), existing.id],
      );
      return { row: (await this.getContainerById(existing.id)) as ContainerRow, created: false };
    }
    const inserted = await this.sql.get<{ id: number }>(
      `INSERT INTO container (created_at, metrics, name, tag, image, url, uri, client, version, collection_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        formatDbTimestamp(),
        serializeMetrics(input.metrics),
        input.name,
        input.tag,
        input.image,
        input.url,
        containerUri(input),
        input.client,
        input.version,
        collection.id,
      ],
    );
    return { row: (await this.getContainerById(Number(inserted?.id))) as ContainerRow, created: true };
  }

  /** Changes the given columns of one row; returns the updated row (undefined when the id is unknown). */
  updateContainer(id: number, fields: ContainerUpdate): Promise<ContainerRow | undefined> {
    return this.transaction(async () => {
      const current = await this.getContainerById(id);
      if (!current) return undefined;
      const columns = await this.updatedColumns(current, fields);
      const names = Object.keys(columns);
      if (names.length > 0) {
        const sets = names.map((name) => `${name} = ?`).join(", ");
        await this.sql.run(`UPDATE container SET ${sets} WHERE id = ?`, [
          ...names.map((name) => columns[name] as SqlParam),
          id,
        ]);
      }
      return this.getContainerById(id);
    });
  }

  private async updatedColumns(
    current: ContainerRow,
    fields: ContainerUpdate,
  ): Promise<Record<string, SqlParam>> {
    const columns: Record<string, SqlParam> = {};
    const plain = ["name", "tag", "version", "client", "image", "url", "uri"] as const;
    for (const key of plain) if (fields[key] !== undefined) columns[key] = fields[key];
    if (fields.metrics !== undefined) columns.metrics = serializeMetrics(fields.metrics);
    let collectionName = current.collection;
    if (fields.collection !== undefined && fields.collection !== current.collection) {
      columns.collection_id = (await this.getOrCreateCollection(fields.collection)).id;
      collectionName = fields.collection;
    }
    const identityChanged = ["collection_id", "name", "tag", "version"].some((key) => key in columns);
    if (fields.uri === undefined && identityChanged) {
      columns.uri = containerUri({
        collection: collectionName,
        name: fields.name ?? current.name,
        tag: fields.tag ?? current.tag,
        version: fields.version === undefined ? current.version : fields.version,
      });
    }
    return columns;
  }

  /** Deletes one row; true when it existed. The image file is the caller's business. */
  deleteContainer(id: number): Promise<boolean> {
    return this.transaction(async () => (await this.sql.run("DELETE FROM container WHERE id = ?", [id])) > 0);
  }

  /** Deletes a collection that has no container left; true when deleted. */
  deleteCollectionIfEmpty(id: number): Promise<boolean> {
    return this.transaction(async () => {
      const sql =
        "DELETE FROM collection WHERE id = ? AND NOT EXISTS (SELECT 1 FROM container WHERE collection_id = ?)";
      return (await this.sql.run(sql, [id, id])) > 0;
    });
  }

  /** Every label (see labels.ts for the metrics shapes read) matching the query, rows in id order. */
  async searchLabels(query: LabelQuery = {}): Promise<LabelMatch[]> {
    const matches: LabelMatch[] = [];
    for (const row of await this.listContainers()) {
      for (const label of labelsFromMetrics(parseMetrics(row.metrics))) {
        if (matchesLabel(label, query)) matches.push({ ...label, row });
      }
    }
    return matches;
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
