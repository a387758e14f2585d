/**
 * `images`: catalog rows in id order, optionally filtered by a query word (the original's match:
 * name equal, or tag, uri or name containing the word, case-insensitively).
 *
 * @example
 * ```ts
 * images(ctx);            // every row
 * images(ctx, "caffe2");  // rows whose name, tag or uri mention caffe2
 * imageSummaries(ctx);    // the same rows, only the columns the `images` table shows
 * ```
 */
import type { ContainerRow, ContainerSummary } from "../catalog/catalog.js";
import type { Context } from "./context.js";

export function images(ctx: Context, query?: string): Promise<ContainerRow[]> {
  return ctx.catalog().listContainers(query);
}

/** `images` with only date, client, collection, name, tag and version: what the table prints. */
export function imageSummaries(ctx: Context, query?: string): Promise<ContainerSummary[]> {
  return ctx.catalog().listContainerSummaries(query);
}
