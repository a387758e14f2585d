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
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { extract, pack, type Header } from "tar-stream";
import { flattenLayers } from "./flatten.js";
import type { FlattenOptions, FlattenStats, LayerSource, OverlayEntry } from "./types.js";

/**
 * tar-stream replaces a falsy mode by 0644/0755; a mode with only a bit above 07777 set is truthy
 * and is masked to 0000 when encoded.
 */
export const ZERO_MODE = 0o10000;

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
    if (header.mode === 0) header.mode = ZERO_MODE;
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

export interface SnapshotItem {
  /** File type bits (S_IFMT). */
  type: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  ino: number;
  size?: number;
  sha256?: string;
  target?: string;
  rdev?: [number, number];
  xattrs: Record<string, string>;
}

/**
 * Snapshot of a directory tree (relative path → lstat facts, content hash, xattrs), taken with
 * python3 because Node has no xattr API. Used to compare umoci's rootfs with unsquashfs output.
 */
export function snapshotTree(root: string): Map<string, SnapshotItem> {
  const json = execFileSync("python3", ["-c", SNAPSHOT_PY, root], { maxBuffer: 256 * 1024 * 1024 });
  return new Map(Object.entries(JSON.parse(json.toString("utf8")) as Record<string, SnapshotItem>));
}

const SNAPSHOT_PY = `import hashlib
import json
import os
import stat
import sys

root = sys.argv[1]
out = {}
for dirpath, dirnames, filenames in os.walk(root):
    for name in [""] + dirnames + filenames:
        if name == "" and dirpath != root:
            continue
        path = os.path.join(dirpath, name) if name else dirpath
        st = os.lstat(path)
        rel = os.path.relpath(path, root)
        item = {
            "type": stat.S_IFMT(st.st_mode),
            "mode": stat.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "mtime": int(st.st_mtime),
            "ino": st.st_ino,
        }
        if stat.S_ISREG(st.st_mode):
            with open(path, "rb") as f:
                item["sha256"] = hashlib.sha256(f.read()).hexdigest()
            item["size"] = st.st_size
        if stat.S_ISLNK(st.st_mode):
            item["target"] = os.readlink(path)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            item["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        try:
            names = os.listxattr(path, follow_symlinks=False)
            item["xattrs"] = {n: os.getxattr(path, n, follow_symlinks=False).hex() for n in sorted(names)}
        except OSError:
            item["xattrs"] = {}
        out[rel] = item
json.dump(out, sys.stdout)
`;
