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
export function formatImagesTable(rows: readonly ImagesRow[], options: { color: boolean }): string {
  if (rows.length === 0) return "";
  const prefix = options.color ? `${HEADER_COLOR}Containers: ${COLOR_OFF}` : "Containers: ";
  const lines = [`${prefix}  [date]   [client]\t[uri]`];
  rows.forEach((row, index) => {
    const label = String(index + 1).padEnd(2) + " ";
    lines.push(`${label}${formatLongDate(row.created_at)}\t   [${row.client}]\t${containerUri(row)}`);
  });
  return lines.join("\n") + "\n";
}
