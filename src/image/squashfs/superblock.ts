/**
 * The 96-byte superblock at the start of the image: counts, block size, compressor, flags and
 * where each table starts (squashfs-tools-ng `doc/format.adoc`, "The Superblock").
 *
 * @example
 * ```ts
 * const bytes = encodeSuperblock({ inodes: 3, mkfsTime: 0, blockSize: 131072, ... });
 * ```
 */
import { INVALID_TABLE, METADATA_UNCOMPRESSED, SQUASHFS_MAGIC, SUPERBLOCK_SIZE } from "./format.js";

export interface Superblock {
  inodes: number;
  mkfsTime: number;
  blockSize: number;
  fragments: number;
  compressor: number;
  flags: number;
  ids: number;
  rootRef: number;
  bytesUsed: number;
  idTable: number;
  /** null: no such table. */
  xattrTable: number | null;
  inodeTable: number;
  directoryTable: number;
  fragmentTable: number | null;
  exportTable: number | null;
}

export function encodeSuperblock(s: Superblock): Buffer {
  const out = Buffer.alloc(SUPERBLOCK_SIZE);
  out.writeUInt32LE(SQUASHFS_MAGIC, 0);
  out.writeUInt32LE(s.inodes, 4);
  out.writeUInt32LE(s.mkfsTime, 8);
  out.writeUInt32LE(s.blockSize, 12);
  out.writeUInt32LE(s.fragments, 16);
  out.writeUInt16LE(s.compressor, 20);
  out.writeUInt16LE(Math.log2(s.blockSize), 22);
  out.writeUInt16LE(s.flags, 24);
  out.writeUInt16LE(s.ids, 26);
  out.writeUInt16LE(4, 28);
  out.writeUInt16LE(0, 30);
  out.writeBigUInt64LE(BigInt(s.rootRef), 32);
  out.writeBigUInt64LE(BigInt(s.bytesUsed), 40);
  out.writeBigUInt64LE(BigInt(s.idTable), 48);
  out.writeBigUInt64LE(table(s.xattrTable), 56);
  out.writeBigUInt64LE(BigInt(s.inodeTable), 64);
  out.writeBigUInt64LE(BigInt(s.directoryTable), 72);
  out.writeBigUInt64LE(table(s.fragmentTable), 80);
  out.writeBigUInt64LE(table(s.exportTable), 88);
  return out;
}

function table(start: number | null): bigint {
  return start === null ? INVALID_TABLE : BigInt(start);
}

/**
 * The compressor options as squashfs stores them right after the superblock: one metadata block,
 * stored uncompressed (header = length | 0x8000), flagged by `SuperFlags.CompressorOptions`
 * (squashfs-tools-ng `doc/format.adoc`, "Compression Options"; the kernel reads it in
 * `fs/squashfs/decompressor.c` `get_comp_opts`). Empty when there are no options.
 *
 * @example
 * ```ts
 * compressorOptionsBlock(Buffer.from([3, 0, 0, 0])); // <06 80 03 00 00 00>: zstd level 3
 * ```
 */
export function compressorOptionsBlock(options: Buffer | null): Buffer {
  if (options === null) return Buffer.alloc(0);
  const header = Buffer.alloc(2);
  header.writeUInt16LE(options.length | METADATA_UNCOMPRESSED, 0);
  return Buffer.concat([header, options]);
}
