/**
 * The original's answer to `mv`/`rename` of an image it cannot act on: `WARNING <name> not found`
 * and exit 0 (sregistry-cli 0.2.39 `sqlite.py` warns instead of exiting). Scripts rely on that
 * status, so it is kept for the three cases, all NOT_FOUND: no such row, a remote record and a
 * missing image file. Any other error still exits 1.
 *
 * @example
 * ```ts
 * const moved = await warnWhenMissing(rt, () => mv(ctx, image, path));
 * if (moved === undefined) return; // warned, exit 0
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import type { CliRuntime } from "../runtime.js";

const MISSING = new Set(["NOT_FOUND"]);

/** Runs `fn`; a NOT_FOUND error becomes a WARNING line and `undefined`. */
export async function warnWhenMissing<T>(rt: CliRuntime, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof SregistryError) || !MISSING.has(err.code)) throw err;
    rt.logger.warning(err.message);
    return undefined;
  }
}
