/**
 * Checking what a mirror served before the pull relies on it, so that wrong bytes from a mirror
 * cost a fallback to the next source, not the pull.
 *
 * What can be checked: a blob or a manifest asked for by digest must hash to that digest; a
 * manifest asked for by tag must match the `Docker-Content-Digest` its server sent (for a signed
 * schema 1 manifest, computed over the payload without signatures, see schema1.ts). Anything
 * else (a tag answer without that header) is passed on unchecked, as from the origin.
 *
 * How: the body is read into memory up to `VERIFY_IN_MEMORY_BYTES` (manifests and configs are
 * smaller, so are many layers). If it ends there, it is checked whole and either handed on from
 * memory or refused, and the mirror layer asks the next source itself: the caller never sees the
 * bad answer. A longer body is handed on as it streams and checked at its end; if it fails (wrong
 * digest, connection cut, stall past the socket's idle timeout) the body fails with a
 * BadSourceError, which tells the blob cache to discard what it received and fetch the blob
 * again from byte 0, from the next source (util/bad-source.ts); the blob cache (and the config
 * reader, blob.ts) can also refuse such a body itself when it runs past the blob's size, which
 * only it knows. A manifest longer than
 * `MAX_MANIFEST_BYTES` is refused like a wrong one.
 *
 * @example
 * ```ts
 * const expected = expectedDigest("blobs", digest, res);
 * const verdict = await verifyMirrorBody(res, expected!, { host, kind: "blobs", onBadStream });
 * if ("bad" in verdict) tryNextSource(verdict.bad); else return verdict.response;
 * ```
 */
import { createHash, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import { digestOf, isDigest, parseDigest, type Digest } from "../oci/digest.js";
import { BadSourceError, REFUSE_SOURCE, type RefusableBody } from "../util/bad-source.js";
import { header, type HttpResponse } from "./http.js";
import { MAX_MANIFEST_BYTES } from "./manifest.js";
import { schema1Payload } from "./schema1.js";

/** Bodies up to this size are checked before anything is handed on (the config blob limit). */
export const VERIFY_IN_MEMORY_BYTES = 8 * 1024 * 1024;

/** What the mirror's body must hash to, or undefined when nothing says. */
export function expectedDigest(kind: string, reference: string, res: HttpResponse): Digest | undefined {
  if (isDigest(reference)) return reference;
  const announced = kind === "manifests" ? header(res, "docker-content-digest")?.trim() : undefined;
  return isDigest(announced) ? announced : undefined;
}

/** The checked response, or why the mirror's answer was refused (`broken`: cut short or stalled). */
export type Verdict = { response: HttpResponse } | { bad: string; broken: boolean };

export interface VerifyOptions {
  host: string;
  kind: string;
  /** The request's own signal: a body failing because the pull was cancelled is not the mirror's fault. */
  signal?: AbortSignal;
  /** Called once when a body handed on as a stream fails its check; `broken` for a cut or stalled body. */
  onBadStream: (why: string, broken: boolean) => void;
}

/** Reads (part of) the body and checks it; see the module doc. */
export async function verifyMirrorBody(
  res: HttpResponse,
  expected: Digest,
  options: VerifyOptions,
): Promise<Verdict> {
  const hash = createHash(parseDigest(expected).algorithm);
  const iterator = (res.body as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  const manifest = options.kind === "manifests";
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const chunk = toBuffer(next.value);
      hash.update(chunk);
      head.push(chunk);
      size += chunk.length;
      if (manifest && size > MAX_MANIFEST_BYTES) {
        res.body.destroy();
        return { bad: `a manifest larger than ${MAX_MANIFEST_BYTES} bytes`, broken: false };
      }
      if (size > VERIFY_IN_MEMORY_BYTES) {
        const body = Readable.from(streamRest(head, iterator, hash, size, expected, options), {
          objectMode: false,
        });
        // Only the consumer knows the blob's size: let it refuse a body that runs past it.
        Object.assign(body, {
          [REFUSE_SOURCE]: (why: string) => {
            options.onBadStream(why, false);
            return new BadSourceError(options.host, `mirror ${options.host} served ${why}`);
          },
        } satisfies RefusableBody);
        return { response: { ...res, body } };
      }
    }
  } catch (err) {
    if (options.signal?.aborted) throw err;
    return { bad: `a body that broke after ${size} bytes (${(err as Error).message})`, broken: true };
  }
  const bytes = Buffer.concat(head, size);
  const actual = `${parseDigest(expected).algorithm}:${hash.digest("hex")}` as Digest;
  if (actual !== expected && !(manifest && schema1Matches(bytes, expected))) {
    return { bad: `${size} bytes whose digest is ${actual}, not ${expected}`, broken: false };
  }
  return { response: { ...res, body: Readable.from([bytes], { objectMode: false }) } };
}

/** The buffered start, then the rest of the body, checked at its end. */
async function* streamRest(
  head: Buffer[],
  iterator: AsyncIterator<Buffer | string>,
  hash: Hash,
  start: number,
  expected: Digest,
  options: VerifyOptions,
): AsyncGenerator<Buffer> {
  let size = start;
  let finished = false;
  const fail = (why: string, broken: boolean, cause?: unknown): BadSourceError => {
    options.onBadStream(why, broken);
    return new BadSourceError(options.host, `mirror ${options.host} served ${why}`, { cause });
  };
  try {
    yield* head;
    head.length = 0;
    for (;;) {
      let next: IteratorResult<Buffer | string>;
      try {
        next = await iterator.next();
      } catch (err) {
        finished = true;
        if (options.signal?.aborted) throw err;
        throw fail(`a body that broke after ${size} bytes (${(err as Error).message})`, true, err);
      }
      if (next.done) break;
      const chunk = toBuffer(next.value);
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    finished = true;
    const actual = `${parseDigest(expected).algorithm}:${hash.digest("hex")}`;
    if (actual !== expected) throw fail(`${size} bytes whose digest is ${actual}, not ${expected}`, false);
  } finally {
    // The consumer stopped early (cancelled, or it refused the bytes): close the mirror's body.
    if (!finished) await iterator.return?.();
  }
}

function schema1Matches(bytes: Buffer, expected: Digest): boolean {
  try {
    const json = JSON.parse(bytes.toString("utf8")) as { schemaVersion?: unknown; signatures?: unknown };
    if (json.schemaVersion !== 1) return false;
    return digestOf(schema1Payload(bytes, json), parseDigest(expected).algorithm) === expected;
  } catch {
    return false;
  }
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === "string" ? Buffer.from(chunk) : chunk;
}
