/**
 * Inode records as the kernel reads them (`fs/squashfs/squashfs_fs.h`; squashfs-tools-ng
 * `doc/format.adoc`, "Inode Table"). Each encoder picks the basic form when it can hold the inode
 * and the extended form otherwise: files ≥ 4 GiB or starting past 4 GiB, hardlinked or sparse
 * files, anything with extended attributes, directories whose listing is ≥ 64 KiB or that carry
 * a lookup index.
 *
 * @example
 * ```ts
 * const bytes = encodeSymlinkInode(header, { links: 1, target: Buffer.from("/bin/sh"), xattr: NO_XATTR });
 * inodeTable.append(bytes); // copy it before the next encode: encoders share one buffer
 * ```
 */
import { InodeType, NO_XATTR } from "./format.js";

export interface InodeHeader {
  mode: number;
  /** Index into the id table. */
  uid: number;
  gid: number;
  mtime: number;
  number: number;
}

export interface DirectoryIndexEntry {
  /** Offset of the header from the start of the listing. */
  index: number;
  /** Position of the metadata block holding the header, relative to the directory table. */
  start: number;
  /** Name of the first entry after the header. */
  name: Buffer;
}

export interface DirectoryInode {
  /** Directory table block (relative) and offset where the listing starts. */
  block: number;
  offset: number;
  /** Listing size in bytes (without the 3 the format adds). */
  listingSize: number;
  links: number;
  parent: number;
  xattr: number;
  /** Written only for extended directories. */
  index: DirectoryIndexEntry[];
}

export interface FileInode {
  start: number;
  size: number;
  fragment: number;
  fragmentOffset: number;
  blockSizes: Uint32Array;
  links: number;
  sparse: number;
  xattr: number;
}

/** Directories with at least this many entries get an index (as squashfs-tools-ng does). */
export const DIRECTORY_INDEX_THRESHOLD = 256;

const SCRATCH = Buffer.alloc(64 * 1024);

/**
 * A zeroed buffer of `size` bytes, shared by all encoders: a result is only valid until the next
 * encode call (the writer copies it into the inode table at once). This saves a small
 * ArrayBuffer per inode, which at a million inodes made more garbage than the tree itself.
 */
export function scratch(size: number): Buffer {
  if (size > SCRATCH.length) return Buffer.alloc(size);
  SCRATCH.fill(0, 0, size);
  return SCRATCH.subarray(0, size);
}

function header(type: number, h: InodeHeader, bodySize: number): Buffer {
  const out = scratch(16 + bodySize);
  out.writeUInt16LE(type, 0);
  out.writeUInt16LE(h.mode & 0o7777, 2);
  out.writeUInt16LE(h.uid, 4);
  out.writeUInt16LE(h.gid, 6);
  out.writeUInt32LE(h.mtime, 8);
  out.writeUInt32LE(h.number, 12);
  return out;
}

export function encodeDirectoryInode(h: InodeHeader, d: DirectoryInode, entries: number): Buffer {
  const size = d.listingSize + 3;
  const basic =
    d.xattr === NO_XATTR && size <= 0xffff && d.block <= 0xffffffff && entries < DIRECTORY_INDEX_THRESHOLD;
  if (basic) {
    const out = header(InodeType.Dir, h, 16);
    out.writeUInt32LE(d.block, 16);
    out.writeUInt32LE(d.links, 20);
    out.writeUInt16LE(size, 24);
    out.writeUInt16LE(d.offset, 26);
    out.writeUInt32LE(d.parent, 28);
    return out;
  }
  // The index count is 16 bits; a longer index is cut (lookups then scan on from the last entry).
  const index = d.index.slice(0, 0xffff);
  const indexBytes = index.reduce((sum, e) => sum + 12 + e.name.length, 0);
  const out = header(InodeType.ExtDir, h, 24 + indexBytes);
  out.writeUInt32LE(d.links, 16);
  out.writeUInt32LE(size, 20);
  out.writeUInt32LE(d.block, 24);
  out.writeUInt32LE(d.parent, 28);
  out.writeUInt16LE(index.length, 32);
  out.writeUInt16LE(d.offset, 34);
  out.writeUInt32LE(d.xattr, 36);
  let at = 40;
  for (const e of index) {
    out.writeUInt32LE(e.index, at);
    out.writeUInt32LE(e.start, at + 4);
    out.writeUInt32LE(e.name.length - 1, at + 8);
    e.name.copy(out, at + 12);
    at += 12 + e.name.length;
  }
  return out;
}

export function encodeFileInode(h: InodeHeader, f: FileInode): Buffer {
  const blocks = f.blockSizes;
  const basic =
    f.start <= 0xffffffff && f.size <= 0xffffffff && f.links <= 1 && f.sparse === 0 && f.xattr === NO_XATTR;
  let out: Buffer;
  let at: number;
  if (basic) {
    out = header(InodeType.File, h, 16 + blocks.length * 4);
    out.writeUInt32LE(f.start, 16);
    out.writeUInt32LE(f.fragment, 20);
    out.writeUInt32LE(f.fragmentOffset, 24);
    out.writeUInt32LE(f.size, 28);
    at = 32;
  } else {
    out = header(InodeType.ExtFile, h, 40 + blocks.length * 4);
    out.writeBigUInt64LE(BigInt(f.start), 16);
    out.writeBigUInt64LE(BigInt(f.size), 24);
    out.writeBigUInt64LE(BigInt(f.sparse), 32);
    out.writeUInt32LE(f.links, 40);
    out.writeUInt32LE(f.fragment, 44);
    out.writeUInt32LE(f.fragmentOffset, 48);
    out.writeUInt32LE(f.xattr, 52);
    at = 56;
  }
  for (let i = 0; i < blocks.length; i++) out.writeUInt32LE(blocks[i]!, at + i * 4);
  return out;
}

export function encodeSymlinkInode(
  h: InodeHeader,
  s: { links: number; target: Buffer; xattr: number },
): Buffer {
  const extended = s.xattr !== NO_XATTR;
  const out = header(
    extended ? InodeType.ExtSymlink : InodeType.Symlink,
    h,
    8 + s.target.length + (extended ? 4 : 0),
  );
  out.writeUInt32LE(s.links, 16);
  out.writeUInt32LE(s.target.length, 20);
  s.target.copy(out, 24);
  if (extended) out.writeUInt32LE(s.xattr, 24 + s.target.length);
  return out;
}

/** Block or character device (`type` is the basic type). */
export function encodeDeviceInode(
  h: InodeHeader,
  type: typeof InodeType.BlockDev | typeof InodeType.CharDev,
  d: { links: number; device: number; xattr: number },
): Buffer {
  const extended = d.xattr !== NO_XATTR;
  const out = header(extended ? type + 7 : type, h, extended ? 12 : 8);
  out.writeUInt32LE(d.links, 16);
  out.writeUInt32LE(d.device, 20);
  if (extended) out.writeUInt32LE(d.xattr, 24);
  return out;
}

/** FIFO or socket (`type` is the basic type). */
export function encodeIpcInode(
  h: InodeHeader,
  type: typeof InodeType.Fifo | typeof InodeType.Socket,
  d: { links: number; xattr: number },
): Buffer {
  const extended = d.xattr !== NO_XATTR;
  const out = header(extended ? type + 7 : type, h, extended ? 8 : 4);
  out.writeUInt32LE(d.links, 16);
  if (extended) out.writeUInt32LE(d.xattr, 20);
  return out;
}
