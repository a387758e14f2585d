/**
 * `labels`: image labels found in the catalog rows' metrics, filtered by key and/or value
 * (case-insensitive substrings), grouped per image in catalog order.
 *
 * The original offered label search only for its `registry` client; here it searches the local
 * catalog (see catalog/labels.ts for where labels are read from), whatever the client.
 *
 * @example
 * ```ts
 * for (const image of labels(ctx, { key: "maintainer" })) {
 *   console.log(image.uri, image.labels); // "vsoch/hello-world:latest@…" [{ key: "MAINTAINER", value: "vanessasaur" }]
 * }
 * ```
 */
import { containerUri, type ContainerRow } from "../catalog/catalog.js";
import type { Label } from "../catalog/labels.js";
import type { Context } from "./context.js";

export interface LabelsQuery {
  /** Part of the label name. */
  key?: string;
  /** Part of the label value. */
  value?: string;
}

export interface ImageLabels {
  /** `collection/name:tag[@version]` */
  uri: string;
  row: ContainerRow;
  /** The matching labels of this image. */
  labels: Label[];
}

export async function labels(ctx: Context, query: LabelsQuery = {}): Promise<ImageLabels[]> {
  const byRow = new Map<number, ImageLabels>();
  for (const match of await ctx.catalog().searchLabels(query)) {
    let image = byRow.get(match.row.id);
    if (!image) {
      image = { uri: match.row.uri ?? containerUri(match.row), row: match.row, labels: [] };
      byRow.set(match.row.id, image);
    }
    image.labels.push({ key: match.key, value: match.value });
  }
  return [...byRow.values()];
}
