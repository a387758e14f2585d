/**
 * Block compression for the writer: zlib streams ("gzip" in squashfs terms, no gzip header) at a
 * chosen level, zstd at a chosen level, lz4, or none (every block stored raw, flagged so in the
 * superblock).
 *
 * Data blocks go through asynchronous APIs that run in the libuv thread pool (node:zlib, and the
 * zstd and lz4 add-ons of zstd-codec.ts / lz4-codec.ts), so several blocks compress at once on
 * every core while JavaScript keeps parsing the input; metadata blocks (8 KiB) are small enough to
 * compress synchronously. A block whose compressed form is not smaller is stored raw (`null`), as
 * squashfs requires. Every codec is deterministic for a given level, so images are reproducible.
 *
 * Compressor options (`options()`) are written after the superblock when not null (squashfs-tools-ng
 * `doc/format.adoc`, "Compression Options"): zstd's level, lz4's version and flags (which the
 * kernel requires). gzip writes none: the defaults block would change nothing for a reader.
 *
 * @example
 * ```ts
 * const zstd = new BlockCompressor(parseCompression("zstd:3"));
 * const packed = await zstd.compress(block); // Buffer, or null to store `block` raw
 * ```
 */
import { deflate, deflateSync } from "node:zlib";
import { SregistryError } from "../../util/errors.js";
import { DEFAULT_LEVELS } from "./compression.js";
import { Compressor } from "./format.js";
import { loadLz4 } from "./lz4-codec.js";
import { loadZstd } from "./zstd-codec.js";
import { looksIncompressible } from "./incompressible.js";

export interface CompressionSpec {
  name: "gzip" | "zstd" | "lz4" | "none";
  /** zlib level 1–9 (gzip), zstd level 1–22; 0 for lz4 and none. */
  level: number;
}

/** One algorithm as the writer uses it. */
export interface BlockCodec {
  /** Compresses off the main thread. */
  compress(block: Buffer): Promise<Buffer>;
  /** Compresses on this thread (metadata blocks). */
  compressSync(block: Buffer): Buffer;
  /** The compressor options block's payload; null: none written. */
  options(): Buffer | null;
}

export const DEFAULT_GZIP_LEVEL = 6;
export const DEFAULT_ZSTD_LEVEL = DEFAULT_LEVELS.zstd!;

const IDS: Record<CompressionSpec["name"], number> = {
  gzip: Compressor.Gzip,
  zstd: Compressor.Zstd,
  lz4: Compressor.Lz4,
  none: Compressor.Gzip,
};

/** Parses `gzip`, `gzip:9`, `zstd`, `zstd:19`, `lz4` or `none`; anything else is a clear error. */
export function parseCompression(text: string): CompressionSpec {
  const [name, levelText, ...rest] = text.trim().toLowerCase().split(":");
  if ((name === "none" || name === "lz4") && levelText === undefined) return { name, level: 0 };
  if ((name === "gzip" || name === "zstd") && rest.length === 0) {
    const max = name === "gzip" ? 9 : 22;
    if (levelText === undefined)
      return { name, level: name === "gzip" ? DEFAULT_GZIP_LEVEL : DEFAULT_ZSTD_LEVEL };
    const level = Number(levelText);
    if (Number.isInteger(level) && level >= 1 && level <= max) return { name, level };
    throw new SregistryError(`${name} level must be 1 to ${max}, got "${levelText}"`, {
      code: "USAGE",
    });
  }
  if (name === "lz4" || name === "xz" || name === "lzo") {
    throw new SregistryError(
      `the native squashfs writer compresses with gzip, zstd, lz4 or none; use --builder tar2sqfs for ${text}`,
      { code: "USAGE" },
    );
  }
  throw new SregistryError(`unknown compression "${text}" (use gzip[:1-9], zstd[:1-22], lz4 or none)`, {
    code: "USAGE",
  });
}

export class BlockCompressor {
  /** Compressor id written to the superblock (gzip also for `none`: no block is compressed then). */
  readonly id: number;
  readonly enabled: boolean;
  private readonly codec: BlockCodec | null;

  constructor(
    readonly spec: CompressionSpec,
    blockSize = 128 * 1024,
  ) {
    this.id = IDS[spec.name];
    this.enabled = spec.name !== "none";
    this.codec =
      spec.name === "gzip"
        ? zlibCodec(spec.level, blockSize)
        : spec.name === "zstd"
          ? loadZstd(spec.level)
          : spec.name === "lz4"
            ? loadLz4()
            : null;
  }

  /** Compresses a data block in the thread pool; null when it should be stored raw (or looks incompressible). */
  async compress(block: Buffer): Promise<Buffer | null> {
    if (this.codec === null) return null;
    // Random-looking blocks would come back larger and be stored raw: skip the codec (incompressible.ts).
    if (looksIncompressible(block)) return null;
    const packed = await this.codec.compress(block);
    return packed.length < block.length ? packed : null;
  }

  /** Compresses a metadata block on this thread; null when it should be stored raw. */
  compressSync(block: Buffer): Buffer | null {
    if (this.codec === null) return null;
    const packed = this.codec.compressSync(block);
    return packed.length < block.length ? packed : null;
  }

  /** The compressor options block's payload (after the superblock), or null. */
  options(): Buffer | null {
    return this.codec?.options() ?? null;
  }
}

function zlibCodec(level: number, blockSize: number): BlockCodec {
  /**
   * `chunkSize` above the block size: zlib then works on a block in one trip to the thread pool
   * instead of one per 16 KiB of output (the default), which cost main-thread time per block.
   * zlib's worst case adds 5 bytes per 16 KiB plus 11: 4 KiB more always holds a block.
   */
  const options = { level, chunkSize: blockSize + 4096 };
  /**
   * An 8 KiB window covers a whole metadata block, so compression is the same as with 32 KiB, and
   * zlib sets up a quarter of the state per block (measured: zlib setup was most of the cost).
   */
  const metadataOptions = { level, windowBits: 13 };
  return {
    compress: (block) =>
      new Promise((resolve, reject) => {
        deflate(block, options, (err, packed) => (err ? reject(err) : resolve(packed)));
      }),
    compressSync: (block) => deflateSync(block, metadataOptions),
    options: () => null,
  };
}
