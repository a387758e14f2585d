/**
 * The `inspect` JSON of one catalog row, exactly as the original prints it: every container column
 * plus the collection name, `metrics` parsed from its JSON text, `created_at` as Python's
 * `str(datetime)`. The CLI prints it (cli/inspect-format.ts) like
 * `json.dumps(obj, indent=4, sort_keys=True)`.
 *
 * Deviation: the original crashes on metrics that are not JSON; we keep the text as a string.
 *
 * @example
 * ```ts
 * const row = catalog.getContainer({ collection: "library", name: "busybox", tag: "latest" });
 * const record = row ? inspectRecord(row) : undefined; // record.metrics is an object
 * ```
 */
import type { ContainerRow } from "./catalog.js";
import { parseMetrics } from "./catalog.js";
import { pythonDatetimeString } from "./timestamps.js";

export interface InspectRecord {
  client: string;
  collection: string;
  collection_id: number;
  created_at: string | null;
  id: number;
  image: string | null;
  metrics: unknown;
  name: string;
  tag: string;
  uri: string | null;
  url: string | null;
  version: string | null;
}

/** The object the original's `inspect` prints for `row`. */
export function inspectRecord(row: ContainerRow): InspectRecord {
  const parsed = parseMetrics(row.metrics);
  return {
    client: row.client,
    collection: row.collection,
    collection_id: row.collection_id,
    created_at: pythonDatetimeString(row.created_at === "" ? null : row.created_at),
    id: row.id,
    image: row.image,
    metrics: parsed === undefined ? row.metrics : parsed,
    name: row.name,
    tag: row.tag,
    uri: row.uri,
    url: row.url,
    version: row.version,
  };
}
