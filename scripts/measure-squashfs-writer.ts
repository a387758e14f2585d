/**
 * Standalone timing of the native squashfs writer on generated trees (not part of `npm run bench`):
 *   many: N small files (0–8 KiB, 1 in 10 a duplicate) in directories of 1,000 — time and peak RSS;
 *   empty: N empty files in directories of 1,000 — peak RSS of the tree alone;
 *   big:  M MiB in 64 MiB files, half random, half text-like — MB/s per gzip level, and with the
 *         compression done synchronously on the main thread instead of the thread pool.
 *
 * Usage: node --import tsx scripts/measure-squashfs-writer.ts many 500000
 *        node --import tsx scripts/measure-squashfs-writer.ts empty 1000000
 *        node --import tsx scripts/measure-squashfs-writer.ts big 512 gzip:6 [sync]
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import type { TarEntry } from "../src/image/flatten/tar-header.js";
import { BlockCompressor } from "../src/image/squashfs/compressor.js";
import { SquashfsWriter } from "../src/image/squashfs/writer.js";

const [mode = "many", countText = "500000", compression = "gzip:6", variant = ""] = process.argv.slice(2);
const count = Number(countText);

function meta(type: TarEntry["type"], size: number, mtime: number): TarEntry {
  return {
    name: "",
    type,
    mode: type === "dir" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime,
    linkname: "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: null,
  };
}

const text = Buffer.from(
  Array.from({ length: 40_000 }, (_, i) => `line ${i} lorem ipsum dolor ${(i * 7919) % 1000}\n`).join(""),
);

async function many(writer: SquashfsWriter): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) writer.entry(meta("dir", 0, 1), `d${i / 1000}`);
    const size = i % 10 === 9 ? 100 : (i * 2654435761) % 8192;
    writer.entry(meta("file", size, 1), `d${Math.floor(i / 1000)}/file-${i}.txt`);
    const from = (i * 31) % (text.length - size);
    writer.body(i % 10 === 9 ? text.subarray(0, 100) : text.subarray(from, from + size));
    writer.endBody(size);
    bytes += size;
    if (i % 64 === 0) await writer.drain();
    if (process.env.MEASURE_DEBUG && i % 100_000 === 0) {
      const m = process.memoryUsage();
      console.error(
        i,
        Math.round(m.rss / 2 ** 20),
        Math.round(m.heapUsed / 2 ** 20),
        Math.round(m.arrayBuffers / 2 ** 20),
      );
    }
  }
  return bytes;
}

/** N empty files in directories of 1,000: the tree alone. */
async function empty(writer: SquashfsWriter): Promise<number> {
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) writer.entry(meta("dir", 0, 1), `d${i / 1000}`);
    writer.entry(meta("file", 0, 1), `d${Math.floor(i / 1000)}/empty-file-${i}`);
    if (i % 64 === 0) await writer.drain();
  }
  return 0;
}

async function big(writer: SquashfsWriter): Promise<number> {
  const fileSize = 64 << 20;
  const files = Math.max(1, Math.floor((count << 20) / fileSize));
  const random = randomBytes(1 << 20);
  for (let f = 0; f < files; f++) {
    writer.entry(meta("file", fileSize, 1), `big-${f}`);
    for (let done = 0; done < fileSize; done += 1 << 20) {
      // Half random (incompressible), half text, changing per MiB so nothing deduplicates.
      const chunk = f % 2 === 0 ? Buffer.from(random) : Buffer.from(text.subarray(0, 1 << 20));
      chunk.writeUInt32LE(f * 4096 + done / (1 << 20), 0);
      writer.body(chunk);
      await writer.drain();
    }
    writer.endBody(fileSize);
  }
  return files * fileSize;
}

// MEASURE_OUTPUT keeps the image there (for tests that read it back).
const path = process.env.MEASURE_OUTPUT ?? join(tmpdir(), `measure-squashfs-${process.pid}.sqfs`);
const fd = openSync(path, "w+");
const writer = new SquashfsWriter({ fd, compression });
if (variant === "sync") {
  // Same bytes, compressed on the main thread: what the thread pool buys.
  const level = Number(compression.split(":")[1] ?? 6);
  BlockCompressor.prototype.compress = function (block: Buffer) {
    const packed = deflateSync(block, { level });
    return Promise.resolve(packed.length < block.length ? packed : null);
  };
}
const started = process.hrtime.bigint();
const input =
  mode === "big" ? await big(writer) : mode === "empty" ? await empty(writer) : await many(writer);
const image = await writer.finish();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
closeSync(fd);
if (process.env.MEASURE_OUTPUT === undefined) rmSync(path);
const rssMiB = process.resourceUsage().maxRSS / 1024;
if (process.env.MEASURE_DEBUG) console.error(process.memoryUsage());
console.log(
  JSON.stringify({
    mode,
    count,
    compression,
    variant: variant || "pool",
    seconds: Number(seconds.toFixed(2)),
    inputMiB: Number((input / 2 ** 20).toFixed(1)),
    MBps: Number((input / 1e6 / seconds).toFixed(1)),
    imageMiB: Number((image.size / 2 ** 20).toFixed(1)),
    inodes: image.inodes,
    duplicates: image.duplicates,
    peakRssMiB: Math.round(rssMiB),
  }),
);
