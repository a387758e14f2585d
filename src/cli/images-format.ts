/**
 * The `images` listing table, exactly as the original prints it (stdout, `\t` = TAB):
 *
 * ```
 * Containers:   [date]   [client]\t[uri]
 * 1  November 26, 2026\t   [docker]\tlibrary/busybox:latest@77c5…
 * ```
 *
 * Colours, from the original's logger: on a TTY the header prefix `Containers: ` (with its trailing
 * space) is wrapped in `\x1b[91m`…`\x1b[0m` (bright red). The row numbers stay uncoloured: the
 * original asks for "purple" by passing the escape code itself as the colour name, which its colour
 * table does not contain, so nothing is added — we reproduce that. No rows → empty string (the
 * original prints nothing, not even the header).
 *
 * @example
 * ```ts
 * process.stdout.write(formatImagesTable(catalog.listContainers(query), { color: process.stdout.isTTY }));
 * ```
 */
import { containerUri, type ContainerRow } from "../catalog/catalog.js";
import { formatLongDate } from "../catalog/timestamps.js";

export const HEADER_COLOR = "\x1b[91m";
export const COLOR_OFF = "\x1b[0m";

export type ImagesRow = Pick<
  ContainerRow,
  "created_at" | "client" | "collection" | "name" | "tag" | "version"
>;

/** The whole table, one `\n`-terminated line per entry; "" for no rows. */
export function formatImagesTable(
  rows: readonly ImagesRow[],
  options: {
    color: boolean;
    /** Applied to every text field that came from outside (the CLI passes `sanitizeForTerminal`). */
    clean?: (text: string) => string;
  },
): string {
  if (rows.length === 0) return "";
  const clean = options.clean ?? ((text: string) => text);
  const prefix = options.color ? `${HEADER_COLOR}Containers: ${COLOR_OFF}` : "Containers: ";
  let table = `${prefix}  [date]   [client]\t[uri]\n`;
  // Rows of one catalog share few distinct days: format each once (10,000 rows, a handful of dates).
  const dates = new Map<string | null, string>();
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] as ImagesRow;
    let date = dates.get(row.created_at);
    if (date === undefined) {
      // Only digits and an English month name come out, whatever the column held.
      date = formatLongDate(row.created_at);
      dates.set(row.created_at, date);
    }
    const uri = containerUri({
      collection: clean(row.collection),
      name: clean(row.name),
      tag: clean(row.tag),
      version: row.version === null ? null : clean(row.version),
    });
    const label = String(index + 1).padEnd(2);
    table += `${label} ${date}\t   [${clean(row.client)}]\t${uri}\n`;
  }
  return table;
}
