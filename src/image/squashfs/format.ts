/**
 * Constants of the squashfs 4.0 on-disk format, as the Linux kernel reads it
 * (`fs/squashfs/squashfs_fs.h`; squashfs-tools-ng `doc/format.adoc`). All integers are little endian.
 *
 * @example
 * ```ts
 * if (kind === InodeType.File && nlink > 1) type = InodeType.ExtFile;
 * ```
 */

export const SQUASHFS_MAGIC = 0x73717368; // "hsqs"
export const SUPERBLOCK_SIZE = 96;
/** Uncompressed size of a metadata block (inodes, directories, tables). */
export const METADATA_SIZE = 8192;
/** Bit 15 of a metadata block header: the block is stored uncompressed. */
export const METADATA_UNCOMPRESSED = 0x8000;
/** Bit 24 of a data/fragment block size: the block is stored uncompressed. */
export const DATA_UNCOMPRESSED = 1 << 24;
export const INVALID_TABLE = 0xffffffffffffffffn;
export const NO_FRAGMENT = 0xffffffff;
export const NO_XATTR = 0xffffffff;
/** The kernel refuses entry names longer than this (`SQUASHFS_NAME_LEN`). */
export const MAX_NAME = 256;
/** Most entries one directory header may cover. */
export const MAX_DIR_RUN = 256;
/** Most distinct uids and gids together (16-bit index in the inode). */
export const MAX_IDS = 65536;
/** Image size is padded to this, as loop devices need (mksquashfs and tar2sqfs use 4 KiB too). */
export const DEVICE_BLOCK = 4096;

/** Inode types; extended = basic + 7. The directory entry stores the basic type. */
export const InodeType = {
  Dir: 1,
  File: 2,
  Symlink: 3,
  BlockDev: 4,
  CharDev: 5,
  Fifo: 6,
  Socket: 7,
  ExtDir: 8,
  ExtFile: 9,
  ExtSymlink: 10,
  ExtBlockDev: 11,
  ExtCharDev: 12,
  ExtFifo: 13,
  ExtSocket: 14,
} as const;

export const Compressor = { Gzip: 1, Lzma: 2, Lzo: 3, Xz: 4, Lz4: 5, Zstd: 6 } as const;

export const SuperFlags = {
  UncompressedInodes: 0x0001,
  UncompressedData: 0x0002,
  UncompressedFragments: 0x0008,
  NoFragments: 0x0010,
  AlwaysFragments: 0x0020,
  Duplicates: 0x0040,
  Exportable: 0x0080,
  UncompressedXattrs: 0x0100,
  NoXattrs: 0x0200,
  CompressorOptions: 0x0400,
  UncompressedIds: 0x0800,
} as const;

/** Linux `new_encode_dev`: how squashfs stores a device number. */
export function encodeDevice(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
