/**
 * The registry client: the transport stack assembled once per registry, and the operations the
 * pull pipeline needs (manifest, platform choice, config, blob streams, tags, ping).
 *
 * Stack, outermost first: retry → redirects → auth → logging → http. Retry wraps everything so
 * that a 5xx on a CDN hop is retried too; redirects sit above auth so each hop is authorised on its
 * own (only the registry's host ever gets `Authorization`); token requests use their own
 * retry → redirects → logging → http chain and never see the registry credentials' Bearer token.
 * With mirrors configured (mirrors.ts), a mirror layer sits outside all of it and sends manifest
 * and blob requests to each mirror's own stack first.
 *
 * @example
 * ```ts
 * const client = new RegistryClient({ registry: "nvcr.io", keychain, logger });
 * const image = await client.resolveImage("nvidia/cuda", "12.0-base", { os: "linux", architecture: "amd64" });
 * for (const layer of image.layers) { const blob = await client.openBlob("nvidia/cuda", layer.digest); ... }
 * client.close();
 * ```
 */
import type { Readable } from "node:stream";
import type { Digest } from "../oci/digest.js";
import { digestOf, isDigest, parseDigest } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import { silentLogger, type Logger } from "../util/log.js";
import { withAuth } from "./auth.js";
import { openBlob, readConfigBlob, type OpenedBlob } from "./blob.js";
import type { Credentials, Keychain } from "./credentials.js";
import { formatReference, responseError } from "./errors.js";
import {
  createHttpTransport,
  header,
  type ClosableTransport,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from "./http.js";
import { withLogging } from "./logging.js";
import { withCertificateDetection, withPlainHttpDetection } from "./network-errors.js";
import {
  fetchManifest,
  type FetchedImageManifest,
  type FetchedIndex,
  type FetchedManifest,
} from "./manifest.js";
import { withMirrors, type MirrorPlan } from "./mirrors.js";
import { formatPlatform } from "../oci/platform.js";
import { platformRank, selectPlatform } from "./platform.js";
import { withRedirects } from "./redirect.js";
import { withRetry, type RetryOptions } from "./retry.js";
import { apiHost, registryBaseUrl } from "./scheme.js";
import { schema1ToImage } from "./schema1.js";
import { listTags } from "./tags.js";
import { TokenCache } from "./token.js";
import { MediaType, type Descriptor, type ImageConfig, type Platform } from "../oci/types.js";
import { blobUrl, manifestUrl } from "./urls.js";

export interface RegistryClientOptions {
  /** `host[:port]` as configured (nvcr.io, docker.io, 127.0.0.1:5000). */
  registry: string;
  /** Plain http (SREGISTRY_*_NOHTTPS). */
  insecure?: boolean;
  /** Do not verify TLS certificates (SREGISTRY_HTTPS_NOVERIFY). */
  httpsNoVerify?: boolean;
  keychain?: Keychain;
  logger?: Logger;
  /** Replace the base http transport (tests); the client then does not own it. */
  transport?: Transport;
  retry?: Partial<RetryOptions>;
  userAgent?: string;
  /**
   * SREGISTRY_STALL_TIMEOUT in ms: time a registry connection may take to open or stay silent
   * before the attempt counts as stalled; default http.ts's 30 s.
   */
  stallTimeoutMs?: number;
  /** SREGISTRY_TRUSTED_REALMS: token realm hosts outside the registry's domain trusted with credentials. */
  trustedRealms?: readonly string[];
  /** Share tokens between clients of the same registry. */
  tokenCache?: TokenCache;
  /** Clock for token expiry (tests). */
  now?: () => number;
  /** How to allow plain http, shown when an https request is answered in plain HTTP. */
  plainHttpHint?: string;
  /** Called once when the registry or its token realm first accepted the credentials. */
  onCredentialsAccepted?: (credentials: Credentials) => void;
  /**
   * Mirrors tried before the registry (mirrors.ts), with their own credentials; `idleTimeoutMs`
   * replaces the silence a mirror's body may keep before it counts as stalled (tests);
   * `headersTimeoutMs` (SREGISTRY_MIRROR_TIMEOUT) the time a mirror has to answer with headers.
   */
  mirrors?: { plan: MirrorPlan; keychain?: Keychain; idleTimeoutMs?: number; headersTimeoutMs?: number };
}

export interface ResolvedImage {
  /** `registry/repo:tag` or `registry/repo@digest` as requested. */
  reference: string;
  /** The index / manifest list the image was chosen from, if the reference named one. */
  index?: FetchedIndex;
  manifest: FetchedImageManifest;
  /** The image's platform (from its config, else the index entry, else what was asked). */
  platform: Platform;
  config: ImageConfig;
  /** The config blob as fetched; for schema 1, the synthesised config serialised. */
  configBytes: Buffer;
  /** Undefined for schema 1 (no config blob exists). */
  configDigest?: Digest;
  /** In application order, bottom first. Schema 1 layers have `size: -1` (unknown). */
  layers: Descriptor[];
  schema: "oci" | "docker-v2" | "docker-v1";
}

export interface OpenBlobOptions {
  offset?: number;
  signal?: AbortSignal;
}

/**
 * Where a pull gets the image config from (a shared blob cache); `fetch` asks the registry. What it
 * returns is checked against the descriptor's size and digest again here.
 */
export type ConfigReader = (descriptor: Descriptor, fetch: () => Promise<Buffer>) => Promise<Buffer>;

function verifiedConfig(
  bytes: Buffer,
  descriptor: Descriptor,
  shown: string,
): { bytes: Buffer; digest: Digest } {
  const actual = digestOf(bytes, parseDigest(descriptor.digest).algorithm);
  if (bytes.length !== descriptor.size || actual !== descriptor.digest) {
    throw new SregistryError(`image config ${descriptor.digest} of ${shown} does not match its digest`, {
      code: "DIGEST_MISMATCH",
    });
  }
  return { bytes, digest: actual };
}

export class RegistryClient {
  /** The registry as configured (used for credentials and messages). */
  readonly registry: string;
  /** `https://host[:port]` (or http when insecure). */
  readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly owned: ClosableTransport | undefined;
  private readonly mirrors: ClosableTransport | undefined;
  private readonly logger: Logger;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.baseUrl = registryBaseUrl(options.registry, { insecure: options.insecure });
    this.logger = options.logger ?? silentLogger;
    this.owned = options.transport
      ? undefined
      : createHttpTransport({
          httpsNoVerify: options.httpsNoVerify,
          userAgent: options.userAgent,
          ...(options.stallTimeoutMs === undefined
            ? {}
            : { connectTimeoutMs: options.stallTimeoutMs, idleTimeoutMs: options.stallTimeoutMs }),
        });
    const base = withPlainHttpDetection(
      withCertificateDetection(options.transport ?? this.owned!),
      options.plainHttpHint ?? "configure the registry as insecure (plain http)",
    );
    const logged = withLogging(base, this.logger);
    const retry: Partial<RetryOptions> = {
      onRetry: ({ attempt, delayMs, reason }) =>
        this.logger.debug(`retrying after ${reason} (attempt ${attempt}, waiting ${delayMs} ms)`),
      ...options.retry,
    };
    const authed = withAuth(logged, {
      registry: apiHost(options.registry),
      credentialsName: options.registry,
      keychain: options.keychain,
      tokenTransport: withRetry(withRedirects(logged), retry),
      cache: options.tokenCache,
      now: options.now,
      insecure: options.insecure,
      trustedRealms: options.trustedRealms,
      onCredentialsAccepted: options.onCredentialsAccepted,
    });
    const origin = withRetry(withRedirects(authed), retry);
    const plan = options.mirrors?.plan;
    this.mirrors =
      plan && (plan.mirrors.length > 0 || plan.primary)
        ? withMirrors(origin, {
            originBaseUrl: this.baseUrl,
            plan,
            keychain: options.mirrors?.keychain,
            idleTimeoutMs: options.mirrors?.idleTimeoutMs,
            headersTimeoutMs: options.mirrors?.headersTimeoutMs,
            logger: this.logger,
            transport: options.transport,
            httpsNoVerify: options.httpsNoVerify,
            userAgent: options.userAgent,
            retry,
            now: options.now,
          })
        : undefined;
    this.transport = this.mirrors ?? origin;
  }

  manifestUrl(repo: string, reference: string): string {
    return manifestUrl(this.baseUrl, repo, reference);
  }

  blobUrl(repo: string, digest: string): string {
    return blobUrl(this.baseUrl, repo, digest);
  }

  fetchManifest(
    repo: string,
    reference: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<FetchedManifest> {
    return fetchManifest({ ...this.request(repo), reference, signal: options.signal });
  }

  /** Manifest (through the index if any, for `platform`), config and layers of an image. */
  async resolveImage(
    repo: string,
    reference: string,
    platform: Platform,
    options: { signal?: AbortSignal; readConfig?: ConfigReader } = {},
  ): Promise<ResolvedImage> {
    const top = await this.fetchManifest(repo, reference, options);
    return this.imageFrom(repo, reference, top, platform, options);
  }

  /**
   * The image of a manifest already fetched (`top`, as `fetchManifest(repo, reference)` returned
   * it): through the index if it is one, so the top document is requested once per pull (like
   * go-containerregistry's `remote.Get` then `Descriptor.Image()`).
   */
  async imageFrom(
    repo: string,
    reference: string,
    top: FetchedManifest,
    platform: Platform,
    options: { signal?: AbortSignal; readConfig?: ConfigReader } = {},
  ): Promise<ResolvedImage> {
    const shown = `${this.registry}/${formatReference(repo, reference)}`;
    if (top.kind !== "index")
      return this.resolveManifest(repo, shown, top, platform, undefined, options.signal, options.readConfig);
    const entry = selectPlatform(top.json, platform, shown);
    const manifest = await this.fetchManifest(repo, entry.digest, options);
    if (manifest.bytes.length !== entry.size) {
      throw new SregistryError(
        `manifest ${entry.digest} of ${shown} is ${manifest.bytes.length} bytes, index says ${entry.size}`,
        {
          code: "DIGEST_MISMATCH",
        },
      );
    }
    if (manifest.kind !== "manifest") {
      throw new SregistryError(`index entry ${entry.digest} of ${shown} is not an image manifest`, {
        code: "MANIFEST_INVALID",
      });
    }
    const resolved = await this.resolveManifest(
      repo,
      shown,
      manifest,
      entry.platform ?? platform,
      top,
      options.signal,
      options.readConfig,
    );
    return resolved;
  }

  /**
   * One request through the client's stack (auth with the scope the method needs, redirects,
   * retry): the push flow's HEAD/POST/PATCH/PUT. The caller consumes or discards the body.
   */
  send(request: HttpRequest): Promise<HttpResponse> {
    return this.transport(request);
  }

  /**
   * True when `reference` has an image for `platform` (an index entry, or a single image whose
   * config names it), without fetching more than the manifest and, for a single image, its config.
   */
  async hasPlatform(
    repo: string,
    reference: string,
    platform: Platform,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const shown = `${this.registry}/${formatReference(repo, reference)}`;
    const top = await this.fetchManifest(repo, reference, options);
    if (top.kind === "index") {
      try {
        selectPlatform(top.json, platform, shown);
        return true;
      } catch (err) {
        if (err instanceof SregistryError && err.code === "PLATFORM") return false;
        throw err;
      }
    }
    let config: ImageConfig;
    if (top.kind === "schema1") config = schema1ToImage(top.json).config;
    else {
      const json = top.json;
      const blob = await readConfigBlob({ ...this.request(repo), signal: options.signal }, json.config);
      config = parseConfig(blob.bytes, shown, json.layers.length);
    }
    return platformRank(platformOf(config, platform), platform) !== undefined;
  }

  /**
   * Opens a blob stream (auth, redirects and retry of the request itself). With `offset`, asks for
   * `bytes=<offset>-`; `status` 206 means the server honoured it, 200 that it sent everything.
   */
  openBlob(
    repo: string,
    digest: string,
    options: OpenBlobOptions = {},
  ): Promise<OpenedBlob & { body: Readable }> {
    return openBlob({ ...this.request(repo), digest, offset: options.offset, signal: options.signal });
  }

  listTags(repo: string, options: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    return listTags({ ...this.request(repo), pageSize: options.pageSize, signal: options.signal });
  }

  /** GET /v2/: reachable, speaks the API, and (with credentials) accepts them. */
  async ping(options: { signal?: AbortSignal } = {}): Promise<{ status: number; apiVersion?: string }> {
    const res = await this.transport({ method: "GET", url: `${this.baseUrl}/v2/`, signal: options.signal });
    if (res.status !== 200) throw await responseError(res, { registry: this.registry, what: "ping" });
    res.body.resume();
    return { status: res.status, apiVersion: header(res, "docker-distribution-api-version") };
  }

  /** Drops pooled connections (only those of a transport this client created). */
  close(): void {
    this.owned?.close();
    this.mirrors?.close();
  }

  private request(repo: string) {
    return { transport: this.transport, baseUrl: this.baseUrl, registry: this.registry, repo };
  }

  private async resolveManifest(
    repo: string,
    shown: string,
    manifest: FetchedImageManifest,
    fallbackPlatform: Platform,
    index: FetchedIndex | undefined,
    signal: AbortSignal | undefined,
    readConfig?: ConfigReader,
  ): Promise<ResolvedImage> {
    const base = { reference: shown, index, manifest };
    if (manifest.kind === "schema1") {
      const { config, layers } = schema1ToImage(manifest.json);
      const platform = platformOf(config, fallbackPlatform);
      this.warnPlatform(shown, platform, fallbackPlatform, index);
      return {
        ...base,
        platform,
        config,
        configBytes: Buffer.from(JSON.stringify(config)),
        layers,
        schema: "docker-v1",
      };
    }
    const json = manifest.json;
    const fetchConfig = () => readConfigBlob({ ...this.request(repo), signal }, json.config);
    const { bytes, digest } = readConfig
      ? await readConfig(json.config, async () => (await fetchConfig()).bytes).then((b) =>
          verifiedConfig(b, json.config, shown),
        )
      : await fetchConfig();
    const config = parseConfig(bytes, shown, json.layers.length);
    const platform = platformOf(config, fallbackPlatform);
    this.warnPlatform(shown, platform, fallbackPlatform, index);
    const schema = manifest.mediaType === MediaType.DockerManifest ? "docker-v2" : "oci";
    return {
      ...base,
      platform,
      config,
      configBytes: bytes,
      configDigest: digest,
      layers: json.layers,
      schema,
    };
  }

  /** A single-platform image for another platform is used (it may be meant for another host), with a warning. */
  private warnPlatform(shown: string, got: Platform, want: Platform, index: FetchedIndex | undefined): void {
    if (index || platformRank(got, want) !== undefined) return;
    this.logger.warning(
      `${shown} is built for ${formatPlatform(got)}, not ${formatPlatform(want)}; using it anyway`,
    );
  }
}

function platformOf(config: ImageConfig, fallback: Platform): Platform {
  if (typeof config.os !== "string" || typeof config.architecture !== "string") return fallback;
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (typeof config.variant === "string" && config.variant !== "") platform.variant = config.variant;
  return platform;
}

function parseConfig(bytes: Buffer, shown: string, layerCount: number): ImageConfig {
  const fail = (why: string): SregistryError =>
    new SregistryError(`invalid image config for ${shown}: ${why}`, { code: "MANIFEST_INVALID" });
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw fail("not valid JSON");
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw fail("not a JSON object");
  const rootfs = (config as ImageConfig).rootfs;
  if (rootfs !== undefined) {
    const ids = rootfs?.diff_ids;
    if (!Array.isArray(ids) || !ids.every((d) => isDigest(d)))
      throw fail("rootfs.diff_ids is not a list of digests");
    if (ids.length !== layerCount) throw fail(`${ids.length} diff_ids for ${layerCount} layers`);
  }
  return config as ImageConfig;
}
