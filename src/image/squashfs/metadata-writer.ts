/**
 * Metadata blocks: a byte stream (inodes, directory listings, lookup tables) cut into 8 KiB pieces,
 * each compressed on its own and preceded by a 16-bit header holding its stored size (bit 15 set =
 * stored raw). A record may cross a block boundary. References into the stream are
 * `(position of the block's header within the table) << 16 | offset in the uncompressed block`.
 *
 * @example
 * ```ts
 * const inodes = new MetadataWriter(compressor);
 * const ref = inodes.ref();       // where the next record starts
 * inodes.append(encodedInode);
 * inodes.flush();
 * const bytes = Buffer.concat(inodes.take());
 * ```
 */
import type { BlockCompressor } from "./compressor.js";
import { METADATA_SIZE, METADATA_UNCOMPRESSED } from "./format.js";

export class MetadataWriter {
  private readonly pending = Buffer.allocUnsafe(METADATA_SIZE);
  private fill = 0;
  private blocks: Buffer[] = [];
  /** Bytes of finished blocks (headers included) since the start of the table. */
  private written = 0;
  private taken = 0;

  constructor(private readonly compressor: BlockCompressor) {}

  /** Position of the next byte: block start (relative to the table) and offset within the block. */
  position(): { block: number; offset: number } {
    return { block: this.written, offset: this.fill };
  }

  /** The reference of the next byte, `block << 16 | offset`, as a safe integer. */
  ref(): number {
    return this.written * 65536 + this.fill;
  }

  /** Stored size of everything finished so far. */
  get size(): number {
    return this.written;
  }

  append(data: Uint8Array): void {
    let from = 0;
    while (from < data.length) {
      const count = Math.min(data.length - from, METADATA_SIZE - this.fill);
      this.pending.set(data.subarray(from, from + count), this.fill);
      this.fill += count;
      from += count;
      if (this.fill === METADATA_SIZE) this.emit();
    }
  }

  /** Ends the current partial block (call once at the end of a table). */
  flush(): void {
    if (this.fill > 0) this.emit();
  }

  /** Stored size of the finished blocks not taken yet. */
  get pendingSize(): number {
    return this.written - this.taken;
  }

  /** Returns the finished blocks not taken yet, so they can be written out and freed. */
  take(): Buffer[] {
    this.taken = this.written;
    const blocks = this.blocks;
    this.blocks = [];
    return blocks;
  }

  private emit(): void {
    const raw = this.pending.subarray(0, this.fill);
    const packed = this.compressor.compressSync(raw);
    const body = packed ?? raw;
    // One exact-size copy: zlib's result is a view of a 16 KiB chunk, which would stay pinned for
    // every block kept until the end (the directory table): 8× the memory (measured).
    const block = Buffer.allocUnsafe(2 + body.length);
    block.writeUInt16LE(packed === null ? this.fill | METADATA_UNCOMPRESSED : packed.length);
    body.copy(block, 2);
    this.blocks.push(block);
    this.written += block.length;
    this.fill = 0;
  }
}

/**
 * Writes a lookup table (fixed-size records: ids, fragments, export refs, xattr ids) as metadata
 * blocks placed at `start`, followed by the uncompressed list of the blocks' absolute positions.
 * Returns the bytes and where the list begins (what the superblock points to).
 */
export function encodeLookupTable(
  records: Buffer,
  compressor: BlockCompressor,
  start: number,
): { bytes: Buffer; listStart: number } {
  const writer = new MetadataWriter(compressor);
  const positions: number[] = [];
  for (let from = 0; from < records.length; from += METADATA_SIZE) {
    positions.push(start + writer.size);
    writer.append(records.subarray(from, from + METADATA_SIZE));
    writer.flush();
  }
  const blocks = Buffer.concat(writer.take());
  const list = Buffer.alloc(positions.length * 8);
  positions.forEach((p, i) => list.writeBigUInt64LE(BigInt(p), i * 8));
  return { bytes: Buffer.concat([blocks, list]), listStart: start + blocks.length };
}
