/**
 * The one temp-name scheme for a file written beside its final place and renamed over it:
 * `.<name>.tmp-<12 hex>` in the same directory (same filesystem, so the rename is atomic; hidden,
 * and random so concurrent writers never share one).
 *
 * @example
 * ```ts
 * siblingTempPath("/data/images/a.sif"); // "/data/images/.a.sif.tmp-3f9c0e1a2b4d"
 * ```
 */
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

export function siblingTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
}
