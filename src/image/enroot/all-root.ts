/**
 * Rewrites a tar stream so that every entry is owned by root (uid 0, gid 0, names `root`), as
 * `mksquashfs -all-root` does when enroot imports an image (enroot's docker::import). Modes,
 * times, xattrs and contents are untouched.
 *
 * Why: enroot runs containers as the calling user in a user namespace where only uid 0 is mapped
 * to that user; files owned by other image uids would show as `nobody` and be unwritable in
 * `enroot create` trees. Done on the stream rather than with a tool option because tar2sqfs, our
 * preferred builder, has no `-all-root`.
 *
 * Input: the flattener's tar (ustar headers, optional PAX `x` headers); PAX `uid`/`gid` records are
 * rewritten in place to the same length with zeros (`uid=0000000`), which keeps every length
 * prefix valid. Other header types pass through unchanged.
 *
 * @example
 * ```ts
 * await pipeline(flattenedTar, allRootTar(), squashfsToolStdin);
 * ```
 */
import { Transform, type TransformCallback } from "node:stream";
import type { ClosingSink } from "../flatten-stream.js";
import type { TarEntry } from "../flatten/tar-header.js";
import type { RootAttributes } from "../flatten/types.js";

const BLOCK = 512;

/** A Transform that makes every tar entry root-owned. */
export function allRootTar(): Transform {
  let pending = Buffer.alloc(0);
  /** Body bytes still to pass through unchanged (rounded up to blocks). */
  let skip = 0;
  /** Size of the next entry's body as given by a PAX `size` record. */
  let paxSize: number | undefined;
  /** Body of a PAX header being collected (rewritten before it is passed on). */
  let paxLeft = 0;
  let paxParts: Buffer[] = [];
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const out: Buffer[] = [];
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (at < data.length) {
        if (skip > 0) {
          const n = Math.min(skip, data.length - at);
          out.push(data.subarray(at, at + n));
          at += n;
          skip -= n;
          continue;
        }
        if (paxLeft > 0) {
          if (data.length - at < paxLeft) break;
          const body = Buffer.from(data.subarray(at, at + paxLeft));
          at += paxLeft;
          paxLeft = 0;
          paxSize = rewritePax(body);
          out.push(...paxParts, body);
          paxParts = [];
          continue;
        }
        if (data.length - at < BLOCK) break;
        const header = Buffer.from(data.subarray(at, at + BLOCK));
        at += BLOCK;
        if (header.every((b) => b === 0)) {
          out.push(header);
          continue;
        }
        const type = header[156];
        const size = paxSize ?? readOctal(header, 124, 12);
        const blocks = Math.ceil(size / BLOCK) * BLOCK;
        if (type === 0x78) {
          // A PAX header: its records are parsed (and ids zeroed) before the entry it describes.
          paxParts = [header];
          paxLeft = blocks;
          paxSize = undefined;
          continue;
        }
        paxSize = undefined;
        makeRoot(header);
        out.push(header);
        // Only regular files (and the old "0"/NUL types) carry bodies in the flattener's output.
        skip = type === 0x30 || type === 0 || type === 0x37 ? blocks : 0;
      }
      pending = Buffer.from(data.subarray(at));
      done(null, out.length > 0 ? Buffer.concat(out) : undefined);
    },
    flush(done: TransformCallback) {
      done(null, pending.length > 0 ? pending : undefined);
    },
  });
}

function makeRoot(header: Buffer): void {
  header.write("0000000\0", 108, 8, "latin1");
  header.write("0000000\0", 116, 8, "latin1");
  if (header.toString("latin1", 257, 262) === "ustar") {
    header.fill(0, 265, 329);
    header.write("root", 265, 32, "latin1");
    header.write("root", 297, 32, "latin1");
  }
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i]!;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
}

/** Zeroes `uid`/`gid` values and renames `uname`/`gname` in place; returns a `size` record's value. */
function rewritePax(body: Buffer): number | undefined {
  let size: number | undefined;
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(body.toString("latin1", at, space));
    if (!Number.isInteger(length) || length <= 0 || at + length > body.length) break;
    const eq = body.indexOf(0x3d, space);
    const key = body.toString("latin1", space + 1, eq);
    const valueStart = eq + 1;
    const valueEnd = at + length - 1; // before the newline
    if (key === "uid" || key === "gid") body.fill(0x30, valueStart, valueEnd);
    if (key === "uname" || key === "gname") body.fill(0x30, valueStart, valueEnd); // "000…": no such user
    if (key === "size") size = Number(body.toString("latin1", valueStart, valueEnd));
    at += length;
  }
  return size;
}

function readOctal(block: Buffer, offset: number, length: number): number {
  const text = block
    .toString("latin1", offset, offset + length)
    .replace(/[\0 ]+$/g, "")
    .trim();
  return text === "" ? 0 : parseInt(text, 8);
}

/**
 * The same for the flattener's entries on their way to the native writer (no tar in between):
 * every entry, hardlinks included, and the root directory are given uid 0 / gid 0 / names `root`;
 * everything else passes.
 *
 * @example
 * ```ts
 * await flattenToSink(input, async (onProgress) =>
 *   allRootSink(await openNativeSink({ path }, { compression, onProgress })));
 * ```
 */
export function allRootSink<T>(sink: ClosingSink<T>): ClosingSink<T> {
  const root = (meta: TarEntry): TarEntry => ({ ...meta, uid: 0, gid: 0, uname: "root", gname: "root" });
  return {
    get entries() {
      return sink.entries;
    },
    get hardlinks() {
      return sink.hardlinks;
    },
    get bytes() {
      return sink.bytes;
    },
    get failure() {
      return sink.failure;
    },
    entry: (meta, path, stored) => sink.entry(root(meta), path, stored),
    body: (chunk) => sink.body(chunk),
    endBody: (size) => sink.endBody(size),
    links: (meta, paths) => sink.links(root(meta), paths),
    drain: () => sink.drain(),
    finish: (end) => sink.finish(end),
    close: (failure) => sink.close(failure),
    ...(sink.storeBody ? { storeBody: (size: number) => sink.storeBody!(size) } : {}),
    ...(sink.restart ? { restart: () => sink.restart!() } : {}),
    ...(sink.start ? { start: (attrs: RootAttributes) => sink.start!({ ...attrs, uid: 0, gid: 0 }) } : {}),
  };
}
