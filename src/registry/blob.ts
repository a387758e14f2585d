/**
 * Blob GETs: opening a blob stream (optionally from an offset, for resume) and reading the small
 * config blob fully, verified against its descriptor.
 *
 * `openBlob` only opens: the caller (the blob cache) hashes, counts and resumes. With an offset it
 * sends `Range: bytes=<offset>-` and reports whether the server honoured it: 206 with a
 * Content-Range starting at the offset, or 200 with the whole blob. A 206 starting elsewhere is an
 * error; 416 (range not satisfiable) is code BAD_RANGE so the caller can restart from zero.
 *
 * @example
 * ```ts
 * const blob = await openBlob({ transport, baseUrl, registry, repo, digest, offset: 1024 });
 * if (blob.status === 206) { ...append... } else { ...restart... }
 * ```
 */
import type { Readable } from "node:stream";
import { digestOf, parseDigest, type Digest } from "../oci/digest.js";
import { isBadSource, refuseSource } from "../util/bad-source.js";
import { SregistryError } from "../util/errors.js";
import { discardBody, readBody } from "./body.js";
import { responseError } from "./errors.js";
import { header, type Transport } from "./http.js";
import type { Descriptor } from "../oci/types.js";
import { blobUrl } from "./urls.js";

export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export interface BlobRequest {
  transport: Transport;
  baseUrl: string;
  registry: string;
  repo: string;
  digest: string;
  offset?: number;
  signal?: AbortSignal;
}

export interface OpenedBlob {
  body: Readable;
  /** 200 (whole blob) or 206 (from the requested offset). */
  status: number;
  /** Size of the whole blob when the server said (Content-Range total, or Content-Length of a 200). */
  totalSize?: number;
  /** Bytes this response will carry, when announced. */
  contentLength?: number;
  /** The URL that answered (after redirects, e.g. a CDN). */
  url: string;
}

export async function openBlob(request: BlobRequest): Promise<OpenedBlob> {
  const { registry, repo, digest } = request;
  const offset = request.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`invalid blob offset ${offset}`);
  const headers: Record<string, string> = {};
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const url = blobUrl(request.baseUrl, repo, digest);
  const res = await request.transport({ method: "GET", url, headers, signal: request.signal });
  const where = `${registry}/${repo}@${digest}`;
  if (res.status === 416) {
    discardBody(res.body);
    throw new SregistryError(`range from byte ${offset} not satisfiable for ${where}`, { code: "BAD_RANGE" });
  }
  if (res.status !== 200 && res.status !== 206) {
    throw await responseError(res, { registry, repo, reference: digest, what: "blob" });
  }
  const contentLength = optionalInt(header(res, "content-length"));
  if (res.status === 200)
    return { body: res.body, status: 200, totalSize: contentLength, contentLength, url: res.url };

  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, "content-range")?.trim() ?? "");
  if (!range || Number(range[1]) !== offset) {
    res.body.destroy();
    throw new SregistryError(`${where}: server answered a range that does not start at byte ${offset}`, {
      code: "HTTP",
    });
  }
  const totalSize = range[3] === "*" ? undefined : Number(range[3]);
  return { body: res.body, status: 206, totalSize, contentLength, url: res.url };
}

/**
 * Reads a config blob whole (≤ 8 MiB), checking its size and digest against the descriptor.
 * A mirror's body too long to be checked in memory comes as a stream that only we can see running
 * past the config's size: that mirror is set aside for this blob (util/bad-source.ts) and the blob
 * asked for again, from the next source (the origin last), as the blob cache does for a layer.
 */
export async function readConfigBlob(
  request: Omit<BlobRequest, "digest" | "offset">,
  descriptor: Descriptor,
): Promise<{ bytes: Buffer; digest: Digest }> {
  const where = `${request.registry}/${request.repo}@${descriptor.digest}`;
  if (descriptor.size > MAX_CONFIG_BYTES) {
    throw new SregistryError(`image config ${where} is larger than 8 MiB`, { code: "MANIFEST_INVALID" });
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await readConfigOnce(request, descriptor, where);
    } catch (err) {
      // Each refusal sets one source aside for this blob, so the origin is reached; the bound is a guard.
      if (!isBadSource(err) || attempt >= MAX_CONFIG_SOURCES) throw err;
    }
  }
}

/** Sources tried for one config blob: mirrors set aside one by one, then the origin. */
const MAX_CONFIG_SOURCES = 8;

async function readConfigOnce(
  request: Omit<BlobRequest, "digest" | "offset">,
  descriptor: Descriptor,
  where: string,
): Promise<{ bytes: Buffer; digest: Digest }> {
  const blob = await openBlob({ ...request, digest: descriptor.digest });
  const mismatch = (why: string): SregistryError =>
    new SregistryError(`image config ${where}: ${why}`, { code: "DIGEST_MISMATCH" });
  const bytes = await readBody(
    blob.body,
    descriptor.size,
    () =>
      refuseSource(blob.body, `a body longer than the config's ${descriptor.size} bytes`) ??
      mismatch(`larger than ${descriptor.size} bytes`),
  );
  if (bytes.length !== descriptor.size)
    throw mismatch(`got ${bytes.length} bytes, expected ${descriptor.size}`);
  const actual = digestOf(bytes, parseDigest(descriptor.digest).algorithm);
  if (actual !== descriptor.digest) throw mismatch(`content digest is ${actual}`);
  return { bytes, digest: actual };
}

function optionalInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}
