/**
 * `images`: catalog rows in id order, optionally filtered by a query word (the original's match:
 * name equal, or tag, uri or name containing the word, case-insensitively).
 *
 * @example
 * ```ts
 * images(ctx);            // every row
 * images(ctx, "caffe2");  // rows whose name, tag or uri mention caffe2
 * ```
 */
import type { ContainerRow } from "../catalog/catalog.js";
import type { Context } from "./context.js";

export function images(ctx: Context, query?: string): Promise<ContainerRow[]> {
  return ctx.catalog().listContainers(query);
}
