/**
 * How the CLI shows catalog rows: the `images` table for a terminal (names and tags may come from
 * a registry or an image, so every field is made safe first) and a row object for `--json` (with
 * `metrics` as an object, as `inspect` prints it, not as the JSON text the database column holds).
 *
 * @example
 * ```ts
 * logger.info(imagesTable(catalog.listContainers(), { color: true }));
 * rt.printJson(catalog.listContainers().map(rowForJson)); // [{ ..., "metrics": { "build": ... } }]
 * ```
 */
import { parseMetrics, type ContainerRow } from "../catalog/catalog.js";
import { formatImagesTable, type ImagesRow } from "./images-format.js";
import { sanitizeForTerminal, TerminalText } from "../util/terminal.js";

/** The `images` table (see cli/images-format.ts), each field one line without controls. */
export function imagesTable(rows: readonly ImagesRow[], options: { color: boolean }): TerminalText {
  const table = formatImagesTable(rows, { color: options.color, clean: sanitizeForTerminal });
  return TerminalText.trusted(table.endsWith("\n") ? table.slice(0, -1) : table);
}

/** A row for `--json` output: the columns, with `metrics` parsed (kept as text if it is not JSON). */
export type JsonRow = Omit<ContainerRow, "metrics"> & { metrics: unknown };

export function rowForJson(row: ContainerRow): JsonRow {
  const parsed = parseMetrics(row.metrics);
  return { ...row, metrics: parsed === undefined ? row.metrics : parsed };
}
