/**
 * The OCI distribution spec's push flow over the registry client (auth, redirects, retry):
 * `HEAD` a blob first and skip it when the registry has it, else `POST /blobs/uploads/` for an
 * upload session, then one `PUT ?digest=` with the whole body (monolithic, blobs up to one chunk)
 * or `PATCH` chunks with `Content-Range` followed by a closing `PUT ?digest=` (chunked); the
 * manifest last, with `PUT /manifests/<tag>`. Every `Location` is resolved against the request
 * that returned it and followed as given (it may carry the registry's `_state`). A chunk the
 * registry refuses with 416 (sent again after its answer was lost) is recovered by asking the
 * session where it stands (`GET` → `Range: 0-<last>`) and going on from there.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
 *
 * Write requests carry the `pull,push` scope (registry/auth.ts); a registry that answers 401 or
 * 403 to them is one clear error saying the credentials have no push rights.
 *
 * @example
 * ```ts
 * await pushBlob(client, "site/pytorch", { digest, size, read: (start, end) => readRange(file, start, end) });
 * await pushManifest(client, "site/pytorch", "24.01", manifestBytes, MediaType.OciManifest);
 * ```
 */
import { discardBody, readErrorText } from "../registry/body.js";
import type { RegistryClient } from "../registry/client.js";
import { statusError } from "../registry/errors.js";
import { header, type HttpResponse } from "../registry/http.js";
import { SregistryError } from "../util/errors.js";

export interface BlobSource {
  digest: string;
  size: number;
  /** Bytes `[start, end)` of the blob. */
  read(start: number, end: number): Promise<Buffer>;
}

export interface PushBlobOptions {
  /** Bytes per PATCH; a blob no larger goes up in one PUT. Default 16 MiB. */
  chunkSize?: number;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** Uploads a blob unless the repository already has it; true when bytes were sent. */
export async function pushBlob(
  client: RegistryClient,
  repo: string,
  blob: BlobSource,
  options: PushBlobOptions = {},
): Promise<boolean> {
  const { signal } = options;
  const blobUrl = client.blobUrl(repo, blob.digest);
  const head = await client.send({ method: "HEAD", url: blobUrl, ...(signal ? { signal } : {}) });
  discardBody(head.body);
  if (head.status === 200) return false;
  if (head.status !== 404) throw await pushError(client, repo, head, `checking blob ${blob.digest}`);

  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const start = await client.send({
    method: "POST",
    url: `${client.baseUrl}/v2/${repo}/blobs/uploads/`,
    headers: { "content-length": "0" },
    ...(signal ? { signal } : {}),
  });
  let location = await expectLocation(client, repo, start, 202, "starting the upload");
  if (blob.size <= chunkSize) {
    const body = await blob.read(0, blob.size);
    await finishUpload(client, repo, location, blob.digest, body, signal);
    options.onProgress?.(blob.size);
    return true;
  }
  let offset = 0;
  while (offset < blob.size) {
    const end = Math.min(blob.size, offset + chunkSize);
    const body = await blob.read(offset, end);
    const res = await client.send({
      method: "PATCH",
      url: location,
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(body.length),
        "content-range": `${offset}-${end - 1}`,
      },
      body,
      ...(signal ? { signal } : {}),
    });
    if (res.status === 416) {
      // The registry already has bytes we think we still owe: a chunk whose answer was lost
      // was sent again. Ask where the session stands and go on from there.
      discardBody(res.body);
      const status = await uploadStatus(client, repo, location, offset, signal);
      options.onProgress?.(status.offset - offset);
      ({ offset, location } = status);
      continue;
    }
    location = await expectLocation(client, repo, res, 202, `uploading bytes ${offset}-${end - 1}`);
    options.onProgress?.(body.length);
    offset = end;
  }
  await finishUpload(client, repo, location, blob.digest, Buffer.alloc(0), signal);
  return true;
}

/** `PUT /v2/<repo>/manifests/<tag>`; returns the digest the registry reports (or undefined). */
export async function pushManifest(
  client: RegistryClient,
  repo: string,
  tag: string,
  bytes: Buffer,
  mediaType: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const res = await client.send({
    method: "PUT",
    url: client.manifestUrl(repo, tag),
    headers: { "content-type": mediaType, "content-length": String(bytes.length) },
    body: bytes,
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 201 && res.status !== 200)
    throw await pushError(client, repo, res, `writing manifest ${tag}`);
  discardBody(res.body);
  return header(res, "docker-content-digest");
}

async function finishUpload(
  client: RegistryClient,
  repo: string,
  location: string,
  digest: string,
  body: Buffer,
  signal: AbortSignal | undefined,
): Promise<void> {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  const res = await client.send({
    method: "PUT",
    url,
    headers: { "content-type": "application/octet-stream", "content-length": String(body.length) },
    body,
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 201) throw await pushError(client, repo, res, `completing the upload of ${digest}`);
  discardBody(res.body);
}

/**
 * `GET <location>`: how many bytes the session holds (`Range: 0-<last>`), and its next URL. Only
 * progress past `offset` is accepted, so a confused registry cannot make the upload loop forever.
 */
async function uploadStatus(
  client: RegistryClient,
  repo: string,
  location: string,
  offset: number,
  signal: AbortSignal | undefined,
): Promise<{ offset: number; location: string }> {
  const res = await client.send({ method: "GET", url: location, ...(signal ? { signal } : {}) });
  const next = await expectLocation(client, repo, res, 204, `checking the upload at byte ${offset}`);
  const range = /^0-(\d+)$/.exec(header(res, "range") ?? "");
  const held = range ? Number(range[1]) + 1 : undefined;
  if (held === undefined || held <= offset) {
    throw new SregistryError(
      `${client.registry} rejected the upload to ${repo} at byte ${offset} (HTTP 416) and holds no more than that`,
      { code: "PUSH" },
    );
  }
  return { offset: held, location: next };
}

/** The session's next URL from `Location`, resolved against the request's URL. */
async function expectLocation(
  client: RegistryClient,
  repo: string,
  res: HttpResponse,
  status: number,
  doing: string,
): Promise<string> {
  if (res.status !== status) throw await pushError(client, repo, res, doing);
  discardBody(res.body);
  const location = header(res, "location");
  if (!location) {
    throw new SregistryError(`${client.registry} sent no upload location while ${doing} for ${repo}`, {
      code: "PUSH",
    });
  }
  return new URL(location, res.url).toString();
}

/** 401/403 on a push: no push rights; anything else: the registry's error, named. */
async function pushError(
  client: RegistryClient,
  repo: string,
  res: HttpResponse,
  doing: string,
): Promise<SregistryError> {
  const text = await readErrorText(res.body);
  if (res.status === 401 || res.status === 403) {
    return new SregistryError(
      `${client.registry} refused to let these credentials push to ${repo} (HTTP ${res.status} while ${doing}); ` +
        "log in with an account that may write there (docker config, enroot credentials or the backend's token)",
      { code: "FORBIDDEN" },
    );
  }
  const codes = errorCodes(text);
  const base = statusError(res.status, codes, { registry: client.registry, repo, what: "blob" });
  return new SregistryError(`push failed while ${doing}: ${base.message}`, { code: "PUSH" });
}

function errorCodes(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: unknown }[] };
    // Only well-formed codes (UNAUTHORIZED, BLOB_UPLOAD_INVALID…) reach the message: the body is
    // the registry's, and nothing from it may put control characters on the terminal.
    return (parsed.errors ?? [])
      .map((e) => e.code)
      .filter((c): c is string => typeof c === "string" && /^[A-Z_]{1,64}$/.test(c));
  } catch {
    return [];
  }
}
