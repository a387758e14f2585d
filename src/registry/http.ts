/**
 * The transport primitive: one HTTP exchange over `node:http` / `node:https`, nothing more.
 *
 * Everything else in the registry client (auth, retry, redirects, logging) is a wrapper around a
 * `Transport`, in the style of go-containerregistry's `remote/transport`. Node's own modules are
 * used instead of global `fetch` so that TLS verification can be switched off
 * (SREGISTRY_HTTPS_NOVERIFY) and bodies stream with backpressure. Redirects are *not* followed
 * here (see redirect.ts). A stalled connect or an idle socket fails with `code: "ETIMEDOUT"`,
 * which retry.ts treats as a retryable network error. The caller must consume or destroy
 * `response.body`, or the keep-alive socket is never returned to the pool.
 *
 * @example
 * ```ts
 * const transport = createHttpTransport({ httpsNoVerify: false });
 * const res = await transport({ method: "GET", url: "https://nvcr.io/v2/" });
 * res.body.resume(); // discard
 * console.log(res.status, header(res, "www-authenticate"));
 * ```
 */
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { networkError } from "./network-errors.js";

export interface HttpRequest {
  method: string;
  url: URL | string;
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case; repeated headers (set-cookie, link) may be arrays. */
  headers: Record<string, string | string[]>;
  /** The URL that produced this response (after redirects, when a wrapper followed them). */
  url: string;
  body: Readable;
  /**
   * Set by the auth wrapper when the request carried credentials (or a token obtained with them):
   * where they came from, so that a 401 can say which key failed. Undefined: anonymous.
   */
  credentialsSource?: string;
}

export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

export interface HttpTransportOptions {
  /** Do not verify TLS certificates (SREGISTRY_HTTPS_NOVERIFY). */
  httpsNoVerify?: boolean;
  /** `User-Agent` header; default `sregistry/<package version>`. */
  userAgent?: string;
  /** Time allowed to open a TCP (and TLS) connection; default 30 s. */
  connectTimeoutMs?: number;
  /** Time a socket may stay silent while waiting for headers or body bytes; default 30 s. */
  idleTimeoutMs?: number;
  /** Parallel sockets per host; default 16. */
  maxSockets?: number;
  /** Name resolution for every socket (default the system's); foreign-urls.ts vets addresses here. */
  lookup?: LookupFunction;
}

/** A transport plus `close()`, which drops the pooled keep-alive sockets. */
export type ClosableTransport = Transport & { close(): void };

/** Builds the base transport with keep-alive agents for http and https. */
export function createHttpTransport(options: HttpTransportOptions = {}): ClosableTransport {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 16,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent({ ...agentOptions, rejectUnauthorized: !options.httpsNoVerify });
  const userAgent = options.userAgent ?? defaultUserAgent();
  const timeouts = { connect: options.connectTimeoutMs ?? 30_000, idle: options.idleTimeoutMs ?? 30_000 };

  const transport = (req: HttpRequest): Promise<HttpResponse> => {
    const url = new URL(req.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Promise.reject(new Error(`unsupported URL scheme ${url.protocol} in ${url.origin}`));
    }
    const headers: Record<string, string> = { "user-agent": userAgent, ...lowerCaseKeys(req.headers ?? {}) };
    if (req.body) headers["content-length"] = String(req.body.length);
    const agent = url.protocol === "https:" ? httpsAgent : httpAgent;
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const request = lib.request(url, { method: req.method, headers, agent, signal: req.signal });
      armTimeouts(request, timeouts);
      request.once("error", reject);
      request.once("response", (res) => {
        resolve({
          status: res.statusCode ?? 0,
          headers: definedHeaders(res.headers),
          url: url.toString(),
          body: res,
        });
      });
      request.end(req.body);
    });
  };
  return Object.assign(transport, {
    close(): void {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}

/** Returns the first value of a response header (names are case-insensitive). */
export function header(res: Pick<HttpResponse, "headers">, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Returns every value of a response header, split on nothing (callers parse lists themselves). */
export function headerValues(res: Pick<HttpResponse, "headers">, name: string): string[] {
  const value = res.headers[name.toLowerCase()];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export { networkError };

function armTimeouts(request: http.ClientRequest, timeouts: { connect: number; idle: number }): void {
  // The idle timer covers waiting for headers and every pause in the body: Node keeps it on the
  // socket until the exchange ends, and destroying the request also errors the response stream.
  let response: http.IncomingMessage | undefined;
  request.once("response", (res) => (response = res));
  request.setTimeout(timeouts.idle, () => {
    const err = networkError(`socket idle for ${timeouts.idle} ms`, "ETIMEDOUT", {
      phase: "response",
      ms: timeouts.idle,
    });
    // Once headers are in, the body stream is what the caller reads: fail it with our error
    // rather than Node's generic "aborted".
    if (response && !response.complete) response.destroy(err);
    request.destroy(err);
  });
  request.once("socket", (socket) => {
    if (!socket.connecting) return; // a reused keep-alive socket is already connected
    const timer = setTimeout(() => {
      request.destroy(
        networkError(`connect timeout after ${timeouts.connect} ms`, "ETIMEDOUT", {
          phase: "connect",
          ms: timeouts.connect,
        }),
      );
    }, timeouts.connect);
    const clear = (): void => clearTimeout(timer);
    // TCP connect only; a stalled TLS handshake is caught by the idle timer.
    socket.once("connect", clear);
    socket.once("close", clear);
  });
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function definedHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

let cachedUserAgent: string | undefined;

/** `sregistry/<version>`, the version read from the package.json above this module (src or dist). */
export function defaultUserAgent(): string {
  if (cachedUserAgent) return cachedUserAgent;
  let version = "0.0.0";
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "sregistry" && pkg.version) {
        version = pkg.version;
        break;
      }
    } catch {
      // try the next candidate
    }
  }
  cachedUserAgent = `sregistry/${version}`;
  return cachedUserAgent;
}
