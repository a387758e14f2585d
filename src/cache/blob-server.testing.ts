/**
 * Test fixture: a misbehaving-on-demand HTTP server for one blob, and an opener that fetches from it.
 *
 * Listens on 127.0.0.1 on a random port. `behaviour` can be changed between requests to drop the
 * connection mid-body, ignore Range, serve other bytes, send too many bytes or send slowly; every
 * request is recorded (its Range header and how many body bytes the server managed to write).
 *
 * @example
 * ```ts
 * const server = await startBlobServer(randomBytes(5 << 20));
 * server.behaviour.dropOnceAfter = 1 << 20;
 * await store.ensure({ digest: server.digest, size: server.blob.length }, server.opener);
 * server.requests[1]!.range; // "bytes=1048576-"
 * await server.close();
 * ```
 */
import { type IncomingMessage, type ServerResponse, createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { type Digest, digestOf } from "../oci/digest.js";
import type { BlobOpener } from "./download.js";

export interface Behaviour {
  /** The next request only: send the full Content-Length but cut the connection after this many bytes. */
  dropOnceAfter?: number;
  /** Answer every request with 200 and the whole body. */
  ignoreRange?: boolean;
  /** Serve these bytes instead of the blob. */
  content?: Buffer;
  /** Append this many extra bytes (Content-Length is left out, so the client must count). */
  extraBytes?: number;
  /** Send in chunks of this size with a pause between them. */
  slow?: { chunk: number; pauseMs: number };
}

export interface RecordedRequest {
  range: string | undefined;
  status: number;
  bytesSent: number;
}

export interface BlobServer {
  blob: Buffer;
  digest: Digest;
  url: string;
  behaviour: Behaviour;
  requests: RecordedRequest[];
  opener: BlobOpener;
  close(): Promise<void>;
}

export async function startBlobServer(blob: Buffer): Promise<BlobServer> {
  const behaviour: Behaviour = {};
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => void serve(req, res, blob, behaviour, requests));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blob`;
  return {
    blob,
    digest: digestOf(blob),
    url,
    behaviour,
    requests,
    opener: httpOpener(url),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The opener a registry client would give the store: GET with Range, offset from Content-Range. */
export function httpOpener(url: string): BlobOpener {
  return (offset) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      get(url, { headers }, (res) => {
        if (res.statusCode === 206) {
          const start = /^bytes (\d+)-/.exec(res.headers["content-range"] ?? "");
          resolve({ body: res, offset: start ? Number(start[1]) : NaN });
        } else if (res.statusCode === 200) {
          resolve({ body: res, offset: 0 });
        } else {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}`));
        }
      }).on("error", reject);
    });
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  blob: Buffer,
  behaviour: Behaviour,
  requests: RecordedRequest[],
): Promise<void> {
  const content = Buffer.concat([behaviour.content ?? blob, Buffer.alloc(behaviour.extraBytes ?? 0, 0x78)]);
  const range = req.headers.range;
  const start = range && !behaviour.ignoreRange ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
  const record: RecordedRequest = { range, status: start > 0 ? 206 : 200, bytesSent: 0 };
  requests.push(record);
  const headers: Record<string, string | number> = { "content-type": "application/octet-stream" };
  if (!behaviour.extraBytes) headers["content-length"] = content.length - start;
  if (start > 0) headers["content-range"] = `bytes ${start}-${content.length - 1}/${content.length}`;
  res.writeHead(record.status, headers);
  const dropAfter = behaviour.dropOnceAfter;
  behaviour.dropOnceAfter = undefined;
  const end = dropAfter === undefined ? content.length : Math.min(content.length, start + dropAfter);
  const chunk = behaviour.slow?.chunk ?? 64 * 1024;
  for (let at = start; at < end && !res.destroyed; at += chunk) {
    const piece = content.subarray(at, Math.min(at + chunk, end));
    if (!res.write(piece)) await drainOrClose(res);
    if (!res.destroyed) record.bytesSent += piece.length;
    if (behaviour.slow) await new Promise((resolve) => setTimeout(resolve, behaviour.slow!.pauseMs));
  }
  if (dropAfter !== undefined) res.socket?.destroy();
  else res.end();
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}
