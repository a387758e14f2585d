/**
 * `get`: the local path of an image, or the manifest URL of a remote record.
 *
 * Without a version, a row with a local file wins over a remote record of the same name (the
 * newest file first), so `singularity run $(sregistry get …)` never gets a URL when the image
 * was pulled (see catalog.ts, "Which row a name means").
 *
 * @example
 * ```ts
 * get(ctx, "nvidia/caffe2:17.10"); // "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10"
 * ```
 */
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { findContainer } from "./lookup.js";

export async function get(ctx: Context, query: string): Promise<string> {
  const row = await findContainer(ctx.catalog(), query);
  if (!row) throw new SregistryError(`image ${query} not found in database`, { code: "NOT_FOUND" });
  const location = row.image ?? row.url;
  if (!location) throw new SregistryError(`No storage file found for ${query}`, { code: "NOT_FOUND" });
  return location;
}
