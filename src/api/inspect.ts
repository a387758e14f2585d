/**
 * `inspect`: the catalog row as the original's JSON (metrics parsed), plus where the image is.
 *
 * @example
 * ```ts
 * const { location, record } = inspect(ctx, "nvidia/caffe2:17.10");
 * record.metrics; // manifests and config kept by `record` or `pull`
 * ```
 */
import { inspectRecord } from "../catalog/inspect.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { findContainer } from "./lookup.js";

export interface InspectResult {
  /** Local path, or the manifest URL of a remote record. */
  location: string | null;
  record: Record<string, unknown>;
}

export async function inspect(ctx: Context, query: string): Promise<InspectResult> {
  const row = await findContainer(ctx.catalog(), query);
  if (!row) throw new SregistryError(`image ${query} was not found in the database`, { code: "NOT_FOUND" });
  return { location: row.image ?? row.url, record: inspectRecord(row) as unknown as Record<string, unknown> };
}
