/**
 * Block compression for the writer: zlib streams ("gzip" in squashfs terms, no gzip header) at a
 * chosen level, or none (every block stored raw, flagged so in the superblock).
 *
 * Data blocks go through node:zlib's asynchronous API, which runs in the libuv thread pool, so
 * several blocks compress at once on every core while JavaScript keeps parsing the input; metadata
 * blocks (8 KiB) are small enough to compress synchronously. A block whose compressed form is not
 * smaller is stored raw (`null`), as squashfs requires.
 *
 * zstd, lz4 and xz are not done in process: Node 20's zlib has no zstd, and the npm codecs are
 * either native add-ons with downloaded binaries or WebAssembly builds; use the external builder
 * (`tar2sqfs`) for them.
 *
 * @example
 * ```ts
 * const gzip = new BlockCompressor(parseCompression("gzip:9"));
 * const packed = await gzip.compress(block); // Buffer, or null to store `block` raw
 * ```
 */
import { deflate, deflateSync } from "node:zlib";
import { SregistryError } from "../../util/errors.js";
import { Compressor } from "./format.js";

export interface CompressionSpec {
  name: "gzip" | "none";
  /** zlib level 1–9 (gzip only). */
  level: number;
}

export const DEFAULT_GZIP_LEVEL = 6;

/** Parses `gzip`, `gzip:9` or `none`; anything else is a clear error. */
export function parseCompression(text: string): CompressionSpec {
  const [name, levelText, ...rest] = text.trim().toLowerCase().split(":");
  if (name === "none" && levelText === undefined) return { name: "none", level: 0 };
  if (name === "gzip" && rest.length === 0) {
    if (levelText === undefined) return { name: "gzip", level: DEFAULT_GZIP_LEVEL };
    const level = Number(levelText);
    if (Number.isInteger(level) && level >= 1 && level <= 9) return { name: "gzip", level };
    throw new SregistryError(`gzip level must be 1 to 9, got "${levelText}"`, { code: "USAGE" });
  }
  if (name === "zstd" || name === "lz4" || name === "xz" || name === "lzo") {
    throw new SregistryError(
      `the native squashfs writer compresses with gzip or none only; use --builder tar2sqfs for ${name}`,
      { code: "USAGE" },
    );
  }
  throw new SregistryError(`unknown compression "${text}" (use gzip, gzip:1..9 or none)`, {
    code: "USAGE",
  });
}

export class BlockCompressor {
  /** Compressor id written to the superblock (gzip also for `none`: no block is compressed then). */
  readonly id = Compressor.Gzip;
  readonly enabled: boolean;
  /**
   * `chunkSize` above the block size: zlib then works on a block in one trip to the thread pool
   * instead of one per 16 KiB of output (the default), which cost main-thread time per block.
   */
  private readonly options: { level: number; chunkSize: number };
  /**
   * An 8 KiB window covers a whole metadata block, so compression is the same as with 32 KiB, and
   * zlib sets up a quarter of the state per block (measured: zlib setup was most of the cost).
   */
  private readonly metadataOptions: { level: number; windowBits: number };

  constructor(
    readonly spec: CompressionSpec,
    blockSize = 128 * 1024,
  ) {
    this.enabled = spec.name !== "none";
    // zlib's worst case adds 5 bytes per 16 KiB plus 11: 4 KiB more always holds a block.
    this.options = { level: spec.level, chunkSize: blockSize + 4096 };
    this.metadataOptions = { level: spec.level, windowBits: 13 };
  }

  /** Compresses a data block in the thread pool; null when it should be stored raw. */
  compress(block: Buffer): Promise<Buffer | null> {
    if (!this.enabled) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      deflate(block, this.options, (err, packed) => {
        if (err) reject(err);
        else resolve(packed.length < block.length ? packed : null);
      });
    });
  }

  /** Compresses a metadata block on this thread; null when it should be stored raw. */
  compressSync(block: Buffer): Buffer | null {
    if (!this.enabled) return null;
    const packed = deflateSync(block, this.metadataOptions);
    return packed.length < block.length ? packed : null;
  }
}
