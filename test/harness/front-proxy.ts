/**
 * The HTTP front that clients of a test registry talk to: it logs every request, proxies `/v2/...`
 * to the real registry (bodies streamed both ways), and in token mode reshapes the registry's
 * Bearer challenge like nvcr.io's (no `service`), rejects expired tokens strictly and serves the realm.
 *
 * @example
 * ```ts
 * const front = await startFront({ backendPort: 5001, requests: [], tokenIssuer });
 * front.port; // clients use 127.0.0.1:front.port
 * await front.close();
 * ```
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtExpiry, type TokenIssuer } from "./token-issuer.js";

export interface LoggedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  authorization?: string;
  host?: string;
  /** Response status, once answered. */
  status?: number;
}

/** Return true when the request was answered and must not be proxied. */
export type Interceptor = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface FrontOptions {
  backendPort: number;
  requests: LoggedRequest[];
  tokenIssuer?: TokenIssuer;
  /** Read on every request, so tests can set and clear it while the server runs. */
  interceptor?: () => Interceptor | undefined;
}

export interface Front {
  port: number;
  close(): Promise<void>;
}

export async function startFront(options: FrontOptions): Promise<Front> {
  const server = createServer((req, res) => {
    const entry: LoggedRequest = { method: req.method ?? "GET", path: req.url ?? "/" };
    if (req.headers.authorization) entry.authorization = req.headers.authorization;
    if (req.headers.host) entry.host = req.headers.host;
    // Read when asked: once a client has seen the response, its status is final (no race with "finish").
    Object.defineProperty(entry, "status", {
      enumerable: true,
      get: () => (res.headersSent ? res.statusCode : undefined),
    });
    options.requests.push(entry);
    void route(req, res, options, port).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(`front error: ${err.message}`);
    });
  });
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, options: FrontOptions, port: number) {
  const intercept = options.interceptor?.();
  if (intercept && (await intercept(req, res))) return;
  const path = new URL(req.url ?? "/", "http://front").pathname;
  const issuer = options.tokenIssuer;
  if (issuer && path === "/proxy_auth") return issuer.handle(req, res);
  if (!path.startsWith("/v2/") && path !== "/v2") {
    res.writeHead(404, { "Content-Type": "text/plain" });
    return res.end("not found");
  }
  if (
    issuer &&
    (bearerExpired(req.headers.authorization) || expiredByTest(issuer, req.headers.authorization))
  ) {
    return sendExpired(req, res, port);
  }
  proxy(req, res, options.backendPort, issuer ? port : undefined);
}

function proxy(req: IncomingMessage, res: ServerResponse, backendPort: number, frontPort?: number): void {
  const upstream = httpRequest(
    { host: "127.0.0.1", port: backendPort, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      const headers: OutgoingHttpHeaders = { ...answer.headers };
      delete headers.connection;
      delete headers["keep-alive"];
      if (typeof headers.location === "string") {
        headers.location = headers.location.replace(`127.0.0.1:${backendPort}`, req.headers.host ?? "");
      }
      const challenge = headers["www-authenticate"];
      if (frontPort !== undefined && typeof challenge === "string") {
        headers["www-authenticate"] = nvcrChallenge(challenge, frontPort);
      }
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (err) => {
    if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
    res.end(`backend error: ${err.message}`);
  });
  req.pipe(upstream);
}

/** `Bearer realm=...,service=...,scope=...,error=...` → nvcr.io's `Bearer realm="<front>/proxy_auth",scope=...`. */
export function nvcrChallenge(challenge: string, frontPort: number): string {
  if (!/^Bearer\s/i.test(challenge)) return challenge;
  const scope = /scope="([^"]*)"/.exec(challenge)?.[1];
  const realm = `realm="http://127.0.0.1:${frontPort}/proxy_auth"`;
  return scope ? `Bearer ${realm},scope="${scope}"` : `Bearer ${realm}`;
}

function bearerExpired(authorization: string | undefined): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!match) return false;
  const exp = jwtExpiry(match[1]!);
  // distribution allows 60 s of leeway; nvcr.io-like strictness makes refresh tests meaningful.
  return exp !== undefined && exp <= Date.now() / 1000;
}

function expiredByTest(issuer: TokenIssuer, authorization: string | undefined): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  return match !== null && issuer.expiredByTest(match[1]!);
}

function sendExpired(req: IncomingMessage, res: ServerResponse, frontPort: number): void {
  req.resume();
  const scope = scopeForPath(req.method ?? "GET", new URL(req.url ?? "/", "http://front").pathname);
  const challenge = nvcrChallenge(`Bearer ${scope ? `scope="${scope}"` : ""}`, frontPort);
  const body = JSON.stringify({
    errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: "token expired" }],
  });
  res.writeHead(401, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "WWW-Authenticate": challenge,
    "Docker-Distribution-Api-Version": "registry/2.0",
  });
  res.end(body);
}

/** The scope the registry would ask for on `path`, e.g. `repository:org/app:pull`. */
export function scopeForPath(method: string, path: string): string | undefined {
  if (path === "/v2/_catalog") return "registry:catalog:*";
  const match = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(path);
  if (!match) return undefined;
  const actions =
    method === "GET" || method === "HEAD" ? "pull" : method === "DELETE" ? "delete" : "pull,push";
  return `repository:${match[1]}:${actions}`;
}
