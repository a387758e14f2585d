/**
 * Test helpers: hand-built tar layers (written with tar-stream, an independent implementation) and
 * a flatten-and-read-back helper. Used by the flatten tests and the integration tests only.
 *
 * @example
 * ```ts
 * const layer = await tarLayer([{ name: "etc/hosts", body: "127.0.0.1 localhost\n" }]);
 * const out = await flattenToList([memoryLayer(layer)]);
 * out.get("etc/hosts")?.body.toString(); // "127.0.0.1 localhost\n"
 * ```
 */
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { extract, pack, type Header } from "tar-stream";
import { flattenLayers } from "./flatten.js";
import type { FlattenOptions, FlattenStats, LayerSource, OverlayEntry } from "./types.js";

export type LayerItem = Partial<Header> & { name: string; body?: string | Buffer };

/** Builds an uncompressed tar layer from a list of entries (type defaults to file, or dir for "x/"). */
export async function tarLayer(items: readonly LayerItem[]): Promise<Buffer> {
  const archive = pack();
  const done = collect(archive);
  for (const item of items) {
    const { body, ...header } = item;
    header.type ??= header.name.endsWith("/") ? "directory" : "file";
    header.mtime ??= new Date(1_600_000_000_000);
    header.mode ??= header.type === "directory" ? 0o755 : 0o644;
    const needsBody = header.type === "file" || header.type === "contiguous-file";
    if (body === undefined && !needsBody) archive.entry(header as Header);
    else archive.entry(header as Header, body ?? "");
  }
  archive.finalize();
  return done;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A layer served from memory in small, odd-sized chunks (to exercise chunk boundaries). */
export function memoryLayer(data: Buffer, chunkSize = 777): LayerSource {
  const digest = "sha256:" + createHash("sha256").update(data).digest("hex");
  return {
    digest,
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    open: () => {
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
      return Readable.from(chunks, { objectMode: false });
    },
  };
}

export interface ListedEntry {
  header: Header;
  body: Buffer;
}

/** Flattens into memory and reads the result back with tar-stream, keyed by name (no trailing /). */
export async function flattenToList(
  layers: readonly LayerSource[],
  overlay: readonly OverlayEntry[] = [],
  options: FlattenOptions = {},
): Promise<{ entries: Map<string, ListedEntry>; order: string[]; stats: FlattenStats; tar: Buffer }> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const stats = await flattenLayers(layers, overlay, out, options);
  const tar = Buffer.concat(chunks);
  const entries = new Map<string, ListedEntry>();
  const order: string[] = [];
  const reader = extract();
  const readAll = (async () => {
    for await (const entry of reader) {
      const body = await collect(entry);
      const name = entry.header.name.replace(/\/$/, "");
      if (entries.has(name)) throw new Error(`duplicate entry ${name}`);
      entries.set(name, { header: entry.header, body });
      order.push(name);
    }
  })();
  reader.end(tar);
  await readAll;
  return { entries, order, stats, tar };
}
