/**
 * zstd for squashfs blocks, in process: `@toondepauw/node-zstd` (the zstd C library behind a
 * Node-API add-on built with napi-rs; the binary comes in a per-platform npm package, nothing is
 * downloaded at install). `encode` runs in the libuv thread pool, like node:zlib's async API, so
 * blocks compress on every core; `encodeSync` serves the small metadata blocks.
 *
 * The add-on compresses as a stream of unknown length, so its frames declare a window of the
 * level's full size (2 MiB at level 3) and no content size. The Linux kernel's squashfs decoder
 * sizes its workspace for one block (`fs/squashfs/zstd_wrapper.c`: window = block size), and zstd
 * refuses a frame whose window does not fit. `singleSegment` rewrites the frame header to what
 * mksquashfs writes through `ZSTD_compress` — Single_Segment set, Frame_Content_Size = the block's
 * length (RFC 8878 §3.1.1.1) — which is exact: the whole content is the window, and the compressed
 * blocks after the header are unchanged.
 *
 * Squashfs stores zstd's options as one little-endian u32, the level (squashfs-tools
 * `zstd_wrapper.h`, squashfs-tools-ng `doc/format.adoc` "Compression Options").
 *
 * @example
 * ```ts
 * const zstd = loadZstd(3);
 * const frame = await zstd.compress(block); // a zstd frame the kernel reads
 * ```
 */
import { createRequire } from "node:module";
import { SregistryError } from "../../util/errors.js";
import type { BlockCodec } from "./compressor.js";

interface ZstdEncoder {
  encode(data: Buffer): Promise<Buffer>;
  encodeSync(data: Buffer): Buffer;
}
interface ZstdBinding {
  Encoder: new (level: number) => ZstdEncoder;
}

const ZSTD_MAGIC = 0xfd2fb528;
const SINGLE_SEGMENT = 0x20;

/** Loads the add-on (on first use: other commands need not pay for it); throws a clear error. */
export function loadZstd(level: number): BlockCodec {
  const binding = requireBinding();
  const encoder = new binding.Encoder(level);
  return {
    compress: async (block) => singleSegment(await encoder.encode(block), block.length),
    compressSync: (block) => singleSegment(encoder.encodeSync(block), block.length),
    options: () => u32(level),
  };
}

/** Whether zstd can be done in process here (the platform package installed and loadable). */
export function zstdAvailable(): boolean {
  try {
    requireBinding();
    return true;
  } catch {
    return false;
  }
}

let cached: ZstdBinding | undefined;

function requireBinding(): ZstdBinding {
  try {
    cached ??= createRequire(import.meta.url)("@toondepauw/node-zstd") as ZstdBinding;
    return cached;
  } catch (err) {
    throw new SregistryError(
      `zstd compression is not available in process on ${process.platform}-${process.arch} ` +
        `(${(err as Error).message.split("\n")[0]}): install tar2sqfs, or use --compression gzip`,
      { code: "TOOL_MISSING", cause: err },
    );
  }
}

/**
 * A frame with the header rewritten to Single_Segment + Frame_Content_Size = `size`. Only the
 * header the add-on writes is accepted (no dictionary, no checksum, window descriptor present);
 * anything else is passed through untouched only if it already is single-segment.
 */
export function singleSegment(frame: Buffer, size: number): Buffer {
  if (frame.length < 6 || frame.readUInt32LE(0) !== ZSTD_MAGIC)
    throw new Error("zstd add-on returned something that is not a zstd frame");
  const descriptor = frame[4]!;
  if (descriptor & SINGLE_SEGMENT) return frame;
  if (descriptor !== 0)
    throw new Error(`unexpected zstd frame header descriptor 0x${descriptor.toString(16)}`);
  // Frame_Content_Size_flag: 0 → 1 byte (single segment only), 1 → 2 bytes (value - 256), 2 → 4 bytes.
  let fcs: Buffer;
  if (size < 256) fcs = Buffer.from([SINGLE_SEGMENT, size]);
  else if (size < 65536 + 256) {
    fcs = Buffer.alloc(3);
    fcs[0] = SINGLE_SEGMENT | (1 << 6);
    fcs.writeUInt16LE(size - 256, 1);
  } else {
    fcs = Buffer.alloc(5);
    fcs[0] = SINGLE_SEGMENT | (2 << 6);
    fcs.writeUInt32LE(size, 1);
  }
  // magic, new descriptor + content size, then everything after the old window descriptor.
  return Buffer.concat([frame.subarray(0, 4), fcs, frame.subarray(6)]);
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value, 0);
  return out;
}
