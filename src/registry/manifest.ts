/**
 * Fetching one manifest: a single GET accepting every manifest type, the body read under a 4 MiB
 * cap, parsed and validated (manifest-parse.ts), and its digest checked.
 *
 * Digest rules: fetched by digest, the bytes must hash to it (DIGEST_MISMATCH otherwise); fetched
 * by tag, they must match `Docker-Content-Digest` when the registry sends a valid one. For signed
 * schema 1 manifests both compare against the payload without signatures (schema1.ts), which is
 * what registries address them by.
 *
 * @example
 * ```ts
 * const m = await fetchManifest({ transport, baseUrl: "https://nvcr.io", registry: "nvcr.io", repo: "nvidia/cuda", reference: "12.0" });
 * m.digest; m.mediaType; m.json;
 * ```
 */
import { digestOf, isDigest, parseDigest, type Digest, type DigestAlgorithm } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import { readBody, readErrorText } from "./body.js";
import { errorCodes, formatReference, responseError, statusError } from "./errors.js";
import { header, type HttpResponse, type Transport } from "./http.js";
import { MANIFEST_MEDIA_TYPES, parseManifest, type ParsedManifest } from "./manifest-parse.js";
import { schema1Payload } from "./schema1.js";
import { manifestUrl, tagsUrl } from "./urls.js";

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A fetched manifest document: a union on `kind` (index, manifest, schema1) with its JSON shape. */
export type FetchedManifest = ParsedManifest & {
  /** The URL the manifest came from (after redirects). */
  url: string;
  /** The manifest's content digest (for signed schema 1: of the payload without signatures). */
  digest: Digest;
  bytes: Buffer;
};

/** An index or manifest list. */
export type FetchedIndex = Extract<FetchedManifest, { kind: "index" }>;

/** A manifest of one image (OCI, Docker schema 2 or schema 1). */
export type FetchedImageManifest = Extract<FetchedManifest, { kind: "manifest" | "schema1" }>;

export interface ManifestRequest {
  transport: Transport;
  /** `https://host[:port]` */
  baseUrl: string;
  /** For messages: the registry as the user named it. */
  registry: string;
  repo: string;
  /** A tag or a digest. */
  reference: string;
  signal?: AbortSignal;
}

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

export async function fetchManifest(request: ManifestRequest): Promise<FetchedManifest> {
  const { registry, repo, reference } = request;
  const where = `${registry}/${formatReference(repo, reference)}`;
  const url = manifestUrl(request.baseUrl, repo, reference);
  const res = await request.transport({
    method: "GET",
    url,
    headers: { accept: MANIFEST_ACCEPT },
    signal: request.signal,
  });
  if (res.status === 404) throw await notFoundError(request, res);
  if (res.status !== 200) throw await responseError(res, { registry, repo, reference, what: "manifest" });
  const bytes = await readBody(
    res.body,
    MAX_MANIFEST_BYTES,
    () =>
      new SregistryError(`invalid manifest for ${where}: larger than 4 MiB`, { code: "MANIFEST_INVALID" }),
  );
  const parsed = parseManifest(bytes, header(res, "content-type"), where);
  const payload = parsed.kind === "schema1" ? schema1Payload(bytes, parsed.json) : bytes;
  const digest = checkDigest(payload, reference, header(res, "docker-content-digest"), where);
  return { ...parsed, url: res.url, digest, bytes };
}

/**
 * Registries (distribution 2.x among them) answer MANIFEST_UNKNOWN for a missing repository too;
 * one tags/list probe tells "repository unknown" from "tag unknown" for the user.
 */
async function notFoundError(request: ManifestRequest, res: HttpResponse): Promise<SregistryError> {
  const { registry, repo, reference } = request;
  const codes = errorCodes(await readErrorText(res.body));
  if (!codes.includes("NAME_UNKNOWN")) {
    try {
      const probe = await request.transport({
        method: "GET",
        url: tagsUrl(request.baseUrl, repo, 1),
        headers: { accept: "application/json" },
        signal: request.signal,
      });
      const probeCodes = errorCodes(await readErrorText(probe.body));
      if (probe.status === 404 && probeCodes.includes("NAME_UNKNOWN")) codes.push("NAME_UNKNOWN");
    } catch {
      // the probe is only for a better message
    }
  }
  return statusError(404, codes, { registry, repo, reference, what: "manifest" });
}

function checkDigest(
  payload: Buffer,
  reference: string,
  headerDigest: string | undefined,
  where: string,
): Digest {
  const expected = isDigest(reference) ? reference : isDigest(headerDigest) ? headerDigest : undefined;
  if (expected === undefined) return digestOf(payload);
  const algorithm: DigestAlgorithm = parseDigest(expected).algorithm;
  const actual = digestOf(payload, algorithm);
  if (actual !== expected) {
    const source = expected === reference ? "requested digest" : "Docker-Content-Digest";
    throw new SregistryError(
      `manifest digest mismatch for ${where}: ${source} ${expected}, content ${actual}`,
      {
        code: "DIGEST_MISMATCH",
      },
    );
  }
  return actual;
}
