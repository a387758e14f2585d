/**
 * How `inspect` prints a record: as the original did, Python's
 * `json.dumps(obj, indent=4, sort_keys=True)` byte for byte (no trailing newline). The catalog
 * returns the record (catalog/inspect.ts); this is only its text form.
 *
 * @example
 * ```ts
 * console.log(formatInspectJson(inspectRecord(row)));
 * ```
 */
import { pythonJsonDumps } from "../catalog/python-json.js";

/** Python `json.dumps(obj, indent=4, sort_keys=True)`, byte for byte (no trailing newline). */
export function formatInspectJson(value: unknown): string {
  return pythonJsonDumps(value, { indent: 4, sortKeys: true });
}
