/**
 * lz4 for squashfs blocks, in process: `lz4-napi` (lz4_flex, a Rust implementation of the LZ4
 * block format, behind a Node-API add-on built with napi-rs; the binary comes in a per-platform npm
 * package, nothing is downloaded at install). `compress` runs in the libuv thread pool.
 *
 * Squashfs lz4 blocks are bare LZ4 *blocks* (the kernel calls `LZ4_decompress_safe`,
 * `fs/squashfs/lz4_wrapper.c`), not LZ4 frames. lz4-napi's `compress` returns a block preceded
 * by the uncompressed length as a little-endian u32 (lz4_flex `compress_prepend_size`), which is
 * checked and cut off.
 *
 * The kernel refuses an lz4 image without compressor options: two little-endian u32, the version
 * (1: the "legacy" block format the kernel reads) and flags (1 = high compression, informative
 * only; squashfs-tools `lz4_wrapper.h`). The high-compression variant is not offered by lz4-napi,
 * so `lz4:hc` is left to tar2sqfs.
 *
 * @example
 * ```ts
 * const lz4 = loadLz4();
 * const block = await lz4.compress(raw); // an LZ4 block, as LZ4_decompress_safe reads it
 * ```
 */
import { createRequire } from "node:module";
import { SregistryError } from "../../util/errors.js";
import type { BlockCodec } from "./compressor.js";

interface Lz4Binding {
  compress(data: Buffer): Promise<Buffer>;
  compressSync(data: Buffer): Buffer;
}

const LZ4_LEGACY = 1;

/** Loads the add-on (on first use: other commands need not pay for it); throws a clear error. */
export function loadLz4(): BlockCodec {
  const binding = requireBinding();
  return {
    compress: async (block) => withoutSize(await binding.compress(block), block.length),
    compressSync: (block) => withoutSize(binding.compressSync(block), block.length),
    options: () => {
      const out = Buffer.alloc(8);
      out.writeUInt32LE(LZ4_LEGACY, 0);
      out.writeUInt32LE(0, 4);
      return out;
    },
  };
}

/** Whether lz4 can be done in process here (the platform package installed and loadable). */
export function lz4Available(): boolean {
  try {
    requireBinding();
    return true;
  } catch {
    return false;
  }
}

let cached: Lz4Binding | undefined;

function requireBinding(): Lz4Binding {
  try {
    cached ??= createRequire(import.meta.url)("lz4-napi") as Lz4Binding;
    return cached;
  } catch (err) {
    throw new SregistryError(
      `lz4 compression is not available in process on ${process.platform}-${process.arch} ` +
        `(${(err as Error).message.split("\n")[0]}): install tar2sqfs, or use --compression gzip`,
      { code: "TOOL_MISSING", cause: err },
    );
  }
}

/** The LZ4 block after lz4_flex's 4-byte length prefix (checked: it must be `size`). */
export function withoutSize(packed: Buffer, size: number): Buffer {
  if (packed.length < 4 || packed.readUInt32LE(0) !== size)
    throw new Error("lz4 add-on returned a block without the expected length prefix");
  return packed.subarray(4);
}
