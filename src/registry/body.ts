/**
 * Reading response bodies safely: a size cap enforced while reading (a registry cannot make us
 * buffer more than we asked for, whatever Content-Length says) and a way to discard a body so the
 * keep-alive socket goes back to the pool.
 *
 * @example
 * ```ts
 * const bytes = await readBody(res.body, 4 << 20, () => new SregistryError("manifest too large"));
 * discardBody(otherResponse.body);
 * ```
 */
import type { Readable } from "node:stream";

/** Reads the whole stream, throwing `tooLarge()` (and destroying the stream) past `limit` bytes. */
export async function readBody(body: Readable, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      total += buf.length;
      if (total > limit) throw tooLarge();
      chunks.push(buf);
    }
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  return Buffer.concat(chunks, total);
}

/** Drops a body we do not need. Small bodies are drained (socket reuse); errors are ignored. */
export function discardBody(body: Readable): void {
  body.on("error", () => undefined);
  body.resume();
}

/** Reads at most `limit` bytes as text, for error messages; never throws. */
export async function readErrorText(body: Readable, limit = 64 * 1024): Promise<string> {
  try {
    const bytes = await readBody(body, limit, () => new Error("too large"));
    return bytes.toString("utf8");
  } catch {
    return "";
  }
}
