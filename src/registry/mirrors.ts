/**
 * Registry mirrors and pull-through caches: an ordered list of endpoints tried before the
 * origin, as a transport wrapper around the origin's own stack.
 *
 * Which requests go to mirrors: GET/HEAD of `/v2/<repo>/manifests/<ref>` and
 * `/v2/<repo>/blobs/<digest>` on the origin. A manifest by tag goes only to mirrors allowed to
 * serve tags (`pull-from-mirror` `all`, or `tag-only` in a pull by tag); digest-addressed content
 * goes to every mirror of the pull. Tag lists and pings stay with the origin.
 *
 * Fallback: each mirror has its own stack (http → logging → auth → redirects → one attempt) with
 * a 2 s connect timeout, 4 s for the response headers and 10 s of silence allowed mid-body. A
 * network error, a timeout, or any answer but 2xx/304/416 (404 miss, 401/403, 429, 5xx) moves on
 * to the next mirror, then to the origin; so does a GET of digest-addressed content answered with
 * anything but the whole body (200). A mirror that failed on the network (or whose body broke or
 * stalled) is skipped for the next 30 s, so a dead mirror costs one timeout, not one per layer.
 *
 * Wrong bytes: what a mirror serves for a digest (or a tag with `Docker-Content-Digest`) is
 * checked here, whichever host it is (mirror-verify.ts). A body that fails is discarded and the
 * mirror skipped for that content for the rest of the client's life; small bodies are checked
 * before they are handed on (the caller just gets the next source's answer), a large blob's
 * stream fails at its end with a BadSourceError, on which the blob cache starts that blob again
 * from byte 0 and this layer sends the new request to the next source. A resume (`Range`) is sent
 * to a mirror without its Range header, so the mirror's answer is always a whole body that can be
 * checked; the blob cache skips the part it already has.
 *
 * Credentials: a mirror's stack looks credentials up by the mirror's own host (Docker's
 * config.json `auths`, `credHelpers`), never through the origin's keychain, so an NGC API key or
 * Docker Hub password is only ever sent to a mirror that the user gave credentials for by name.
 *
 * Trust: everything above this layer also verifies what it gets whichever host served it — blobs and
 * configs against their descriptor's digest and size, manifests fetched by digest against the
 * digest. A manifest fetched *by tag* can only be checked against the `Docker-Content-Digest`
 * its server sent: from a mirror, the tag → digest mapping is the mirror's word. Use
 * `pull-from-mirror = "digest-only"` for mirrors not trusted with tags: the tag is then resolved
 * at the origin and only digest-addressed content comes from the mirror (containers/image would
 * skip such a mirror for the whole tag pull; serving the verified blobs from it is as safe).
 *
 * @example
 * ```ts
 * const plan = planMirrors(rule, "nvcr.io", "nvidia/cuda", { byDigest: false });
 * const transport = withMirrors(originTransport, { originBaseUrl: "https://nvcr.io", plan, logger, keychain });
 * ```
 */
import type { MirrorLocation, RegistryRule } from "../config/registries-conf.js";
import { matchLength } from "../config/registries-conf.js";
import { isDigest } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import { silentLogger, type Logger } from "../util/log.js";
import { withAuth } from "./auth.js";
import { discardBody } from "./body.js";
import { anonymousKeychain, type Keychain } from "./credentials.js";
import {
  createHttpTransport,
  type ClosableTransport,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from "./http.js";
import { withLogging } from "./logging.js";
import { withCertificateDetection } from "./network-errors.js";
import { withRedirects } from "./redirect.js";
import { withRetry, type RetryOptions } from "./retry.js";
import { expectedDigest, verifyMirrorBody } from "./mirror-verify.js";
import { isDockerHub } from "../reference/grammar.js";
import { apiHost, registryBaseUrl } from "./scheme.js";

/** One place a repository can be read from. */
export interface Endpoint {
  /** `host[:port]` as configured. */
  host: string;
  /** Plain http. */
  insecure: boolean;
  /** Repository path on the origin that this endpoint's `to` replaces ("" = the whole registry). */
  from: string;
  /** Replacement path on this endpoint ("" = its root). */
  to: string;
}

export interface MirrorEndpoint extends Endpoint {
  /** May answer manifests requested by tag. */
  tags: boolean;
}

export interface MirrorPlan {
  /** Tried in order before the origin. */
  mirrors: MirrorEndpoint[];
  /** A rewritten origin (`location` ≠ `prefix`): used instead of the named registry. */
  primary?: Endpoint;
}

export const MIRROR_CONNECT_TIMEOUT_MS = 2000;
export const MIRROR_HEADERS_TIMEOUT_MS = 4000;
export const MIRROR_DOWN_MS = 30_000;
/** Silence allowed in a mirror's body before it counts as stalled (a proxy relaying a slow origin pauses). */
export const MIRROR_IDLE_TIMEOUT_MS = 10_000;

/** The name registries.conf matches on: Docker Hub's aliases are `docker.io`. */
export function matchName(registry: string, repository: string): string {
  return `${isDockerHub(registry) ? "docker.io" : registry.toLowerCase()}/${repository}`;
}

/**
 * The endpoints of one pull: `rule` is the matched registries.conf rule (or undefined),
 * `byDigest` whether the image was named by digest. A blocked rule is a FORBIDDEN error.
 */
export function planMirrors(
  rule: RegistryRule | undefined,
  registry: string,
  repository: string,
  options: { byDigest: boolean },
): MirrorPlan {
  if (!rule) return { mirrors: [] };
  const name = matchName(registry, repository);
  if (rule.blocked) {
    throw new SregistryError(`pulling ${name} is blocked by ${rule.source} (prefix "${rule.prefix}")`, {
      code: "FORBIDDEN",
    });
  }
  const covered = matchLength(rule.prefix, name) ?? 0;
  const from = name.slice(name.indexOf("/") + 1, Math.max(covered, name.indexOf("/") + 1)).replace(/\/$/, "");
  const endpoint = (location: string, insecure: boolean): Endpoint => {
    const slash = location.indexOf("/");
    return slash < 0
      ? { host: location, insecure, from, to: "" }
      : { host: location.slice(0, slash), insecure, from, to: location.slice(slash + 1) };
  };
  const mirrors = rule.mirrors
    .filter((m) => usable(m, options.byDigest))
    .map((m) => ({ ...endpoint(m.location, m.insecure), tags: m.pullFromMirror !== "digest-only" }));
  return {
    mirrors,
    ...(rule.location ? { primary: endpoint(rule.location, rule.insecure) } : {}),
  };
}

function usable(mirror: MirrorLocation, byDigest: boolean): boolean {
  return !(byDigest && mirror.pullFromMirror === "tag-only");
}

/** `repository` on `endpoint`, or undefined when it is outside the endpoint's namespace. */
export function mapRepository(endpoint: Endpoint, repository: string): string | undefined {
  const { from, to } = endpoint;
  let rest: string;
  if (from === "") rest = repository;
  else if (repository === from) rest = "";
  else if (repository.startsWith(from + "/")) rest = repository.slice(from.length + 1);
  else return undefined;
  const mapped = [to, rest].filter((part) => part !== "").join("/");
  return mapped === "" ? undefined : mapped;
}

export interface MirrorOptions {
  /** `https://host[:port]` of the origin, as the client builds URLs. */
  originBaseUrl: string;
  plan: MirrorPlan;
  /** Credentials for mirrors, looked up by each mirror's host; default none. */
  keychain?: Keychain;
  logger?: Logger;
  /** Base transport for the endpoints (tests); default one made here with short timeouts. */
  transport?: Transport;
  httpsNoVerify?: boolean;
  userAgent?: string;
  retry?: Partial<RetryOptions>;
  now?: () => number;
  /** Time a mirror has to send response headers; default MIRROR_HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number;
  /** Silence allowed mid-body before the mirror counts as stalled; default MIRROR_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
}

interface Stack {
  endpoint: Endpoint;
  baseUrl: string;
  transport: Transport;
  downUntil: number;
  /** `kind/reference` of content this endpoint served wrong: never asked again by this client. */
  bad: Set<string>;
}

const API_PATH = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.*)$/;

/** Wraps the origin's transport so that mirrors (and a rewritten origin) answer first. */
export function withMirrors(origin: Transport, options: MirrorOptions): ClosableTransport {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const owned = options.transport
    ? undefined
    : createHttpTransport({
        httpsNoVerify: options.httpsNoVerify,
        userAgent: options.userAgent,
        connectTimeoutMs: MIRROR_CONNECT_TIMEOUT_MS,
        idleTimeoutMs: options.idleTimeoutMs ?? MIRROR_IDLE_TIMEOUT_MS,
      });
  // A mirror with an untrusted certificate is skipped like any failing mirror; `--debug` says why in one line.
  const base = withCertificateDetection(options.transport ?? owned!);
  const build = (endpoint: Endpoint, attempts?: number): Stack => ({
    endpoint,
    baseUrl: registryBaseUrl(endpoint.host, { insecure: endpoint.insecure }),
    transport: endpointTransport(base, endpoint, options, logger, attempts),
    downUntil: 0,
    bad: new Set(),
  });
  const mirrors = options.plan.mirrors.map((m) => ({ ...build(m, 1), tags: m.tags }));
  const primary = options.plan.primary ? build(options.plan.primary) : undefined;
  const originOrigin = new URL(options.originBaseUrl).origin;

  const send = async (req: HttpRequest): Promise<HttpResponse> => {
    const url = new URL(req.url);
    const match = url.origin === originOrigin ? API_PATH.exec(url.pathname) : null;
    if (!match || (req.method !== "GET" && req.method !== "HEAD")) return origin(req);
    const [, repository, kind, rest] = match as unknown as [string, string, string, string];
    const what = describe(kind, repository, rest);
    if (kind !== "tags") {
      const byTag = kind === "manifests" && !isDigest(decodeURIComponent(rest));
      for (const mirror of mirrors) {
        if (byTag && !mirror.tags) continue;
        if (mirror.downUntil > now() || mirror.bad.has(`${kind}/${rest}`)) continue;
        const res = await tryMirror(mirror, req, url, { repository, kind, rest }, what);
        if (res) return res;
      }
    }
    if (primary) {
      const rewritten = rewrite(primary, url, repository);
      if (rewritten) {
        logger.debug(`${what}: from ${primary.endpoint.host} (the configured location of ${url.host})`);
        return primary.transport({ ...req, url: rewritten });
      }
    }
    if (mirrors.length > 0) logger.debug(`${what}: from the origin ${url.host}`);
    return origin(req);
  };

  const tryMirror = async (
    mirror: Stack,
    req: HttpRequest,
    url: URL,
    content: Content,
    what: string,
  ): Promise<HttpResponse | undefined> => {
    const rewritten = rewrite(mirror, url, content.repository);
    if (!rewritten) return undefined;
    const host = mirror.endpoint.host;
    const get = req.method === "GET";
    try {
      const res = await withDeadline(
        mirror.transport,
        { ...req, url: rewritten, headers: get ? withoutRange(req.headers) : req.headers },
        options.headersTimeoutMs ?? MIRROR_HEADERS_TIMEOUT_MS,
      );
      if (get && res.status !== 200) {
        discardBody(res.body);
        logger.debug(`${what}: mirror ${host} answered HTTP ${res.status}, trying the next source`);
        return undefined;
      }
      if (servable(res.status)) return get ? await checked(mirror, res, req, content, what) : res;
      discardBody(res.body);
      logger.debug(`${what}: mirror ${host} answered HTTP ${res.status}, trying the next source`);
    } catch (err) {
      if (req.signal?.aborted) throw err;
      mirror.downUntil = now() + MIRROR_DOWN_MS;
      const why = (err as Error).message;
      logger.debug(`${what}: mirror ${host} failed (${why}), skipping it for ${MIRROR_DOWN_MS / 1000} s`);
    }
    return undefined;
  };

  /** The mirror's answer once its bytes are checked (or checking as they stream); undefined if refused. */
  const checked = async (
    mirror: Stack,
    res: HttpResponse,
    req: HttpRequest,
    content: Content,
    what: string,
  ): Promise<HttpResponse | undefined> => {
    const host = mirror.endpoint.host;
    const key = `${content.kind}/${content.rest}`;
    const expected = expectedDigest(content.kind, decodeURIComponent(content.rest), res);
    if (!expected) {
      logger.debug(`${what}: from mirror ${host} (HTTP ${res.status}, no digest to check it against)`);
      return res;
    }
    const setAside = (broken: boolean): void => {
      mirror.bad.add(key);
      if (broken) mirror.downUntil = now() + MIRROR_DOWN_MS;
    };
    const verdict = await verifyMirrorBody(res, expected, {
      host,
      kind: content.kind,
      signal: req.signal,
      onBadStream: (why, broken) => {
        setAside(broken);
        logger.debug(
          `${what}: mirror ${host} served ${why}; discarding it, fetching again from the next source`,
        );
      },
    });
    if ("bad" in verdict) {
      setAside(verdict.broken);
      logger.debug(`${what}: mirror ${host} served ${verdict.bad}; discarded, trying the next source`);
      return undefined;
    }
    logger.debug(`${what}: from mirror ${host} (HTTP ${res.status})`);
    return verdict.response;
  };

  return Object.assign(send, { close: () => owned?.close() });
}

/** Which content of the origin a request is for (from its path). */
interface Content {
  repository: string;
  kind: string;
  /** The tag or digest, as in the path (URL-encoded). */
  rest: string;
}

/** The request's headers without `Range`: a mirror always sends the whole body, which can be checked. */
function withoutRange(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return headers;
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "range"));
}

/** 2xx, 304, and 416 (a resume past the end, which the blob cache handles) are the mirror's answer. */
function servable(status: number): boolean {
  return (status >= 200 && status < 300) || status === 304 || status === 416;
}

function rewrite(stack: Stack, url: URL, repository: string): string | undefined {
  const mapped = mapRepository(stack.endpoint, repository);
  if (mapped === undefined) return undefined;
  const path = url.pathname.replace(/^\/v2\/.+\/(manifests|blobs|tags)\//, `/v2/${mapped}/$1/`);
  return `${stack.baseUrl}${path}${url.search}`;
}

function describe(kind: string, repository: string, rest: string): string {
  const ref = decodeURIComponent(rest);
  if (kind === "blobs") return `blob ${ref} of ${repository}`;
  if (kind === "tags") return `tags of ${repository}`;
  return `manifest ${repository}${isDigest(ref) ? "@" : ":"}${ref}`;
}

function endpointTransport(
  base: Transport,
  endpoint: Endpoint,
  options: MirrorOptions,
  logger: Logger,
  attempts: number | undefined,
): Transport {
  const logged = withLogging(base, logger);
  const retry: Partial<RetryOptions> = { ...options.retry, ...(attempts ? { attempts } : {}) };
  const authed = withAuth(logged, {
    registry: apiHost(endpoint.host),
    credentialsName: endpoint.host,
    keychain: options.keychain ?? anonymousKeychain,
    tokenTransport: withRetry(withRedirects(logged), retry),
    now: options.now,
    insecure: endpoint.insecure,
  });
  return withRetry(withRedirects(authed), retry);
}

/** Sends `req`, aborting it if no response headers arrive within `ms`. */
async function withDeadline(transport: Transport, req: HttpRequest, ms: number): Promise<HttpResponse> {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(Object.assign(new Error(`no answer within ${ms} ms`), { code: "ETIMEDOUT" })),
    ms,
  );
  const signal = req.signal ? AbortSignal.any([req.signal, deadline.signal]) : deadline.signal;
  try {
    return await transport({ ...req, signal });
  } catch (err) {
    throw deadline.signal.aborted && !req.signal?.aborted ? deadline.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}
