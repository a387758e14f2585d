/**
 * Opens a non-distributable ("foreign") layer from the `urls` of its descriptor, tried in order, the way
 * go-containerregistry does, with SSRF protections: those URLs come from the image author, not the
 * registry, so a hostile manifest could point them at the cloud metadata service or an internal host.
 *
 * Rules: https only (http too when the registry itself is insecure); no credentials are ever sent (URLs
 * with user info are refused); only global unicast addresses are connected to (global-address.ts says
 * which ranges are refused and why). The address check runs when the socket connects, in the `lookup`
 * of the transport's sockets (`createForeignTransport`): the host is resolved, every address is
 * classified, and the socket is given only addresses that passed, so no DNS answer can change between
 * the check and the connection. A URL whose host is an IP literal is classified before the request
 * (sockets do not look literals up). Redirects are followed here, by hand (at most 5), each hop
 * connecting through the same check, never from https down to http. The peer address of the answering
 * socket is checked once more before any body byte is used. With an offset, `Range` is sent and the
 * real starting offset returned (206 → offset, 200 → 0), as the registry opener does.
 *
 * Errors are one-line `SregistryError`s with code `FOREIGN_URL` naming the URL without its query string.
 *
 * @example
 * ```ts
 * const { body, offset, url } = await openForeignBlob(layer.urls ?? [], { offset: 0, insecure: false });
 * ```
 */
import { promises as dns } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { discardBody } from "../registry/body.js";
import {
  createHttpTransport,
  header,
  type ClosableTransport,
  type HttpResponse,
  type Transport,
} from "../registry/http.js";
import { withCertificateDetection } from "../registry/network-errors.js";
import { SregistryError } from "../util/errors.js";
import { addressRefusal, type AddressPolicy } from "./global-address.js";

/** Every address of a host name; the default is the system resolver (`dns.lookup`, all answers). */
export type Resolver = (host: string) => Promise<string[]>;

/** How foreign-URL sockets find and vet addresses; tests inject both fields, nothing else does. */
export interface ForeignNetworkOptions extends AddressPolicy {
  /** DNS resolver; default `dns.promises.lookup(host, { all: true })`. */
  resolve?: Resolver;
}

export interface ForeignBlobOptions extends ForeignNetworkOptions {
  /** Blob offset to start at (resume); `Range: bytes=<offset>-` when > 0. */
  offset: number;
  /** The registry is plain http: foreign URLs may then be http too. */
  insecure: boolean;
  /** Do not verify TLS certificates (SREGISTRY_HTTPS_NOVERIFY); used only without `transport`. */
  httpsNoVerify?: boolean;
  signal?: AbortSignal;
  /**
   * HTTP exchange; default a fresh `createForeignTransport`, closed when the body ends. Host names are
   * vetted by that transport's sockets: pass one made by `createForeignTransport` (tests may pass a
   * fake one to exercise redirects and status handling without any socket).
   */
  transport?: Transport;
}

export interface ForeignBlob {
  body: Readable;
  /** Blob offset where `body` starts: the requested offset after a 206, 0 after a 200. */
  offset: number;
  /** The URL (as listed in the descriptor) that served the blob. */
  url: string;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A transport whose sockets connect only to vetted addresses: their `lookup` resolves the host and
 * fails the connection, before any packet is sent, when any answer is not global unicast.
 *
 * @example
 * ```ts
 * const transport = createForeignTransport({ httpsNoVerify: false });
 * ```
 */
export function createForeignTransport(
  options: ForeignNetworkOptions & { httpsNoVerify?: boolean } = {},
): ClosableTransport {
  const transport = createHttpTransport({
    httpsNoVerify: options.httpsNoVerify,
    lookup: guardedLookup(options),
  });
  // An untrusted certificate is one line naming the host and what to do, as for the registry.
  return Object.assign(withCertificateDetection(transport), { close: () => transport.close() });
}

/**
 * A socket `lookup` (see `net.connect`) that hands the socket only addresses that passed
 * `addressRefusal`, and fails with code `EADDRNOTGLOBAL` naming the first refused one otherwise.
 *
 * @example
 * ```ts
 * net.connect({ host: "cdn.example", port: 443, lookup: guardedLookup({}) });
 * ```
 */
export function guardedLookup(options: ForeignNetworkOptions = {}): LookupFunction {
  const resolve = options.resolve ?? defaultResolve;
  return (host, lookupOptions, callback) => {
    vetAddresses(host, resolve, options).then(
      (addresses) => {
        // A socket asks for one family, or for every address (`all`, for Happy Eyeballs).
        const family = familyNumber(lookupOptions.family);
        const usable = addresses.filter((address) => family === 0 || isIP(address) === family);
        if (usable.length === 0) return callback(lookupError(`${host} has no IPv${family} address`), "");
        if (lookupOptions.all)
          return callback(
            null,
            usable.map((address) => ({ address, family: isIP(address) })),
          );
        callback(null, usable[0]!, isIP(usable[0]!));
      },
      (err: NodeJS.ErrnoException) => callback(err, ""),
    );
  };
}

/** Every address of `host`, once each has passed the policy; rejects naming the first that did not. */
async function vetAddresses(host: string, resolve: Resolver, policy: AddressPolicy): Promise<string[]> {
  const addresses = await resolve(host);
  if (addresses.length === 0) throw lookupError(`${host} has no addresses`);
  for (const address of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal !== undefined) {
      const message = `${host} resolves to ${address}, not a global unicast address: ${refusal}`;
      throw Object.assign(new Error(message), { code: "EADDRNOTGLOBAL" });
    }
  }
  return addresses;
}

/** Tries each URL in order; rejects with `FOREIGN_URL` listing why each one failed. */
export async function openForeignBlob(urls: string[], options: ForeignBlobOptions): Promise<ForeignBlob> {
  if (urls.length === 0) throw foreignError("no URLs in the layer descriptor");
  const failures: string[] = [];
  for (const url of urls) {
    options.signal?.throwIfAborted();
    try {
      return { ...(await openOne(url, options)), url };
    } catch (err) {
      options.signal?.throwIfAborted();
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw foreignError(failures.join("; "));
}

/**
 * The registry's error for a foreign layer whose URLs had failed, saying both: "blob unknown" alone
 * would hide that the URLs were tried. Kept a plain `Error` when it was one, so the download still
 * retries network errors; an abort is passed through untouched.
 *
 * @example
 * ```ts
 * await fromRegistry(offset).catch((err: unknown) => { throw withUrlFailure(err, urlFailure); });
 * ```
 */
export function withUrlFailure(registryError: unknown, urlFailure: Error): unknown {
  if (!(registryError instanceof Error) || registryError.name === "AbortError") return registryError;
  const urls = urlFailure.message.replace(FOREIGN_PREFIX, "");
  const message = `${registryError.message} (asked after the layer's foreign URLs failed: ${urls})`;
  if (registryError instanceof SregistryError) {
    const { code, exitCode } = registryError;
    return new SregistryError(message, { code, exitCode, cause: registryError });
  }
  const { code } = registryError as NodeJS.ErrnoException;
  return Object.assign(new Error(message, { cause: registryError }), code === undefined ? {} : { code });
}

async function openOne(
  url: string,
  options: ForeignBlobOptions,
): Promise<{ body: Readable; offset: number }> {
  const owned = options.transport ? undefined : createForeignTransport(options);
  const transport = options.transport ?? owned!;
  try {
    const res = await follow(transport, url, options);
    const opened = { body: res.body, offset: startOffset(res, options.offset, url) };
    // The transport's keep-alive agent belongs to this one body: drop it once the body is done.
    if (owned) opened.body.once("close", () => owned.close());
    return opened;
  } catch (err) {
    owned?.close();
    throw err;
  }
}

/** GETs `url`, following redirects by hand with the checks repeated on every hop. */
async function follow(
  transport: Transport,
  first: string,
  options: ForeignBlobOptions,
): Promise<HttpResponse> {
  let current = parseUrl(first);
  for (let hop = 0; ; hop++) {
    checkUrl(current, options);
    const headers: Record<string, string> = {};
    if (options.offset > 0) headers.range = `bytes=${options.offset}-`;
    const res = await transport({ method: "GET", url: current, headers, signal: options.signal }).catch(
      (err: unknown) => {
        options.signal?.throwIfAborted();
        throw urlError(current, err instanceof Error ? err.message : String(err));
      },
    );
    checkPeer(res, current, options);
    if (!REDIRECTS.has(res.status)) return res;
    discardBody(res.body);
    const location = header(res, "location");
    if (location === undefined) throw urlError(current, `HTTP ${res.status} without a Location`);
    if (hop + 1 > MAX_REDIRECTS) throw urlError(current, `more than ${MAX_REDIRECTS} redirects`);
    const next = parseUrl(location, current);
    if (current.protocol === "https:" && next.protocol === "http:") {
      throw urlError(current, `redirect from https to http (${printable(next)})`);
    }
    current = next;
  }
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw foreignError(`${text.split("?")[0] ?? ""}: not a valid URL`);
  }
}

/** Scheme, credentials and, for an IP literal, the address: checked before the request. */
function checkUrl(url: URL, options: ForeignBlobOptions): void {
  const allowed = options.insecure ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(url.protocol)) {
    const why = url.protocol === "http:" ? " (http only for an insecure registry)" : "";
    throw urlError(url, `scheme ${url.protocol} not allowed${why}`);
  }
  if (url.username !== "" || url.password !== "") throw urlError(url, "credentials in the URL");
  // A socket never looks an IP literal up, so guardedLookup would not see it: classify it here.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) === 0) return;
  const refusal = addressRefusal(host, options);
  if (refusal !== undefined) throw urlError(url, `${host} is not a global unicast address: ${refusal}`);
}

/** The address actually connected to, when the body is a socket-backed response. */
function checkPeer(res: HttpResponse, url: URL, options: ForeignBlobOptions): void {
  const peer = (res.body as Readable & { socket?: { remoteAddress?: string } }).socket?.remoteAddress;
  if (peer === undefined) return;
  const refusal = addressRefusal(peer, options);
  if (refusal !== undefined) {
    discardBody(res.body);
    throw urlError(url, `connected to ${peer}, not a global unicast address: ${refusal}`);
  }
}

function startOffset(res: HttpResponse, offset: number, url: string): number {
  if (res.status === 200) return 0;
  if (res.status === 206 && offset > 0) {
    const range = /^bytes (\d+)-/.exec(header(res, "content-range") ?? "");
    if (range && Number(range[1]) === offset) return offset;
    discardBody(res.body);
    throw urlError(parseUrl(url), `206 does not start at byte ${offset}`);
  }
  discardBody(res.body);
  throw urlError(parseUrl(url), `HTTP ${res.status}`);
}

async function defaultResolve(host: string): Promise<string[]> {
  const answers = await dns.lookup(host, { all: true });
  return answers.map((answer) => answer.address);
}

function familyNumber(family: number | string | undefined): number {
  if (family === "IPv4") return 4;
  if (family === "IPv6") return 6;
  return typeof family === "number" ? family : 0;
}

function lookupError(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: "ENOTFOUND" });
}

/** The URL as shown in messages: no user info, no query string, no fragment. */
function printable(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function urlError(url: URL, reason: string): SregistryError {
  return new SregistryError(`${printable(url)}: ${reason}`, { code: "FOREIGN_URL" });
}

const FOREIGN_PREFIX = "foreign layer URL refused or failed: ";

function foreignError(reason: string): SregistryError {
  return new SregistryError(`${FOREIGN_PREFIX}${reason}`, { code: "FOREIGN_URL" });
}
