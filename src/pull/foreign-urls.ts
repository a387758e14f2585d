/**
 * Opens a non-distributable ("foreign") layer from the `urls` of its descriptor, tried in order, the way
 * go-containerregistry does, with its SSRF protections: those URLs come from the image author, not the
 * registry, so a hostile manifest could point them at the cloud metadata service or an internal host.
 *
 * Rules: https only (http too when the registry itself is insecure); no credentials are ever sent (URLs
 * with user info are refused); the host is resolved first and refused if any address is loopback,
 * private, link-local, unspecified or an IPv4-mapped form of those; redirects are followed here, by
 * hand (at most 5), with the same checks on every hop and never from https down to http. After the
 * response arrives, the socket's peer address is checked once more (a DNS answer that changed between
 * our lookup and the connection) before any body byte is used. With an offset, `Range` is sent and the
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
import { BlockList, isIP } from "node:net";
import type { Readable } from "node:stream";
import { discardBody } from "../registry/body.js";
import { createHttpTransport, header, type HttpResponse, type Transport } from "../registry/http.js";
import { SregistryError } from "../util/errors.js";

export interface ForeignBlobOptions {
  /** Blob offset to start at (resume); `Range: bytes=<offset>-` when > 0. */
  offset: number;
  /** The registry is plain http: foreign URLs may then be http too. */
  insecure: boolean;
  /** Do not verify TLS certificates (SREGISTRY_HTTPS_NOVERIFY); used only without `transport`. */
  httpsNoVerify?: boolean;
  signal?: AbortSignal;
  /** DNS resolver (tests); default `dns.promises.lookup(host, { all: true })`. */
  lookup?: (host: string) => Promise<string[]>;
  /** Skip the address checks (tests only: their servers listen on 127.0.0.1). */
  allowPrivate?: boolean;
  /** HTTP exchange; default a fresh `createHttpTransport`, closed when the body ends. */
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

const BLOCKED_V4 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // unspecified / "this network"
  ["127.0.0.0", 8], // loopback
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16], // private
  ["169.254.0.0", 16], // link-local (cloud metadata services)
] as const) {
  BLOCKED_V4.addSubnet(net, prefix, "ipv4");
}
const BLOCKED_V6 = new BlockList();
BLOCKED_V6.addAddress("::", "ipv6"); // unspecified
BLOCKED_V6.addAddress("::1", "ipv6"); // loopback
BLOCKED_V6.addSubnet("fc00::", 7, "ipv6"); // unique local (private)
BLOCKED_V6.addSubnet("fe80::", 10, "ipv6"); // link-local

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

/** True for loopback, private, link-local and unspecified addresses, IPv4-mapped forms included. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED_V4.check(address, "ipv4");
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const mapped = mappedIpv4(address);
  if (mapped !== undefined) return BLOCKED_V4.check(mapped, "ipv4");
  return BLOCKED_V6.check(address, "ipv6");
}

async function openOne(
  url: string,
  options: ForeignBlobOptions,
): Promise<{ body: Readable; offset: number }> {
  const owned = options.transport ? undefined : createHttpTransport({ httpsNoVerify: options.httpsNoVerify });
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
    await checkUrl(current, options);
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

/** Scheme, credentials and every resolved address, before any connection is made. */
async function checkUrl(url: URL, options: ForeignBlobOptions): Promise<void> {
  const allowed = options.insecure ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(url.protocol)) {
    const why = url.protocol === "http:" ? " (http only for an insecure registry)" : "";
    throw urlError(url, `scheme ${url.protocol} not allowed${why}`);
  }
  if (url.username !== "" || url.password !== "") throw urlError(url, "credentials in the URL");
  if (options.allowPrivate) return;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const lookup = options.lookup ?? defaultLookup;
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch (err) {
    throw urlError(url, `cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (addresses.length === 0) throw urlError(url, `${host} has no addresses`);
  const blocked = addresses.find(isBlockedAddress);
  if (blocked !== undefined) throw urlError(url, `${host} resolves to a non-public address ${blocked}`);
}

/** The address actually connected to, when the body is a socket-backed response. */
function checkPeer(res: HttpResponse, url: URL, options: ForeignBlobOptions): void {
  if (options.allowPrivate) return;
  const peer = (res.body as Readable & { socket?: { remoteAddress?: string } }).socket?.remoteAddress;
  if (peer !== undefined && isBlockedAddress(peer)) {
    discardBody(res.body);
    throw urlError(url, `connected to a non-public address ${peer}`);
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

async function defaultLookup(host: string): Promise<string[]> {
  const answers = await dns.lookup(host, { all: true });
  return answers.map((answer) => answer.address);
}

/** `a.b.c.d` for `::ffff:a.b.c.d` in any spelling (`::ffff:7f00:1`, `0:0:0:0:0:ffff:...`). */
function mappedIpv4(address: string): string | undefined {
  const hextets = expandIpv6(address.toLowerCase().split("%")[0] ?? "");
  if (hextets === undefined) return undefined;
  if (hextets.slice(0, 5).some((h) => h !== 0) || hextets[5] !== 0xffff) return undefined;
  const [high = 0, low = 0] = hextets.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** Eight 16-bit groups, an embedded dotted IPv4 tail converted. */
function expandIpv6(address: string): number[] | undefined {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const bytes = dotted[1]!.split(".").map(Number);
    const tail = `${((bytes[0]! << 8) | bytes[1]!).toString(16)}:${((bytes[2]! << 8) | bytes[3]!).toString(16)}`;
    text = text.slice(0, dotted.index) + tail;
  }
  const [head = "", rest] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 0) return undefined;
  return [...left, ...Array<string>(missing).fill("0"), ...right].map((h) => parseInt(h, 16));
}

/** The URL as shown in messages: no user info, no query string, no fragment. */
function printable(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function urlError(url: URL, reason: string): SregistryError {
  return new SregistryError(`${printable(url)}: ${reason}`, { code: "FOREIGN_URL" });
}

function foreignError(reason: string): SregistryError {
  return new SregistryError(`foreign layer URL refused or failed: ${reason}`, { code: "FOREIGN_URL" });
}
