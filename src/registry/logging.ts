/**
 * Debug logging of every exchange: method, URL, status and milliseconds. Query strings are
 * replaced by `?…` (pre-signed CDN URLs carry credentials there) and header values are never
 * logged; the Logger redacts registered secrets on top of that.
 *
 * @example
 * ```ts
 * const transport = withLogging(createHttpTransport(), logger);
 * // DEBUG GET https://nvcr.io/v2/nvidia/cuda/manifests/12.0 -> 200 (84 ms)
 * ```
 */
import type { Logger } from "../util/log.js";
import type { Transport } from "./http.js";

export function withLogging(inner: Transport, logger: Logger, now: () => number = Date.now): Transport {
  return async (req) => {
    const started = now();
    const shown = `${req.method} ${safeUrl(req.url)}`;
    try {
      const res = await inner(req);
      logger.debug(`${shown} -> ${res.status} (${now() - started} ms)`);
      return res;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      logger.debug(`${shown} failed: ${code} (${now() - started} ms)`);
      throw err;
    }
  };
}

/** The URL without its query string (or user info). */
export function safeUrl(url: URL | string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? "?…" : ""}`;
}
