/**
 * Test-only helpers for the registry client: a tiny HTTP server on 127.0.0.1 with a random port
 * that records every request, and a fake transport built from a function. Not used by product code.
 *
 * @example
 * ```ts
 * const server = await startFakeServer((req, res) => res.end("hi"));
 * // ... server.url, server.requests
 * await server.close();
 * ```
 */
import http from "node:http";
import { Readable } from "node:stream";
import type { HttpRequest, HttpResponse, Transport } from "./http.js";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>` (or the address given) */
  url: string;
  /** `127.0.0.1:<port>` */
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type FakeHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** Listens on `address` (default 127.0.0.1; 127.0.0.2 serves as "another host", still loopback). */
export async function startFakeServer(handler: FakeHandler, address = "127.0.0.1"): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${address}:${port}`,
    host: `${address}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A response for fake transports. */
export function fakeResponse(
  status: number,
  body: string | Buffer = "",
  headers: Record<string, string | string[]> = {},
  url = "http://fake/",
): HttpResponse {
  return { status, headers, url, body: Readable.from([Buffer.from(body)]) };
}

/** A transport that records requests and answers with `answer`. */
export function fakeTransport(
  answer: (req: HttpRequest, index: number) => HttpResponse | Promise<HttpResponse>,
): Transport & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    requests.push(req);
    const res = await answer(req, requests.length - 1);
    return { ...res, url: res.url === "http://fake/" ? String(req.url) : res.url };
  };
  return Object.assign(transport, { requests });
}

/** A fake clock for token expiry tests. */
export function fakeClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
