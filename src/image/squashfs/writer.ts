/**
 * A squashfs 4.0 writer fed by the flattener's entry stream, writing in place into an open file at
 * a byte offset (the SIF partition), so no temporary image and no copy are needed.
 *
 * It takes the same calls, in the same order, as the flattener's tar sink: `entry(meta, path)` for
 * each path (parents first), `body(chunk)`/`endBody(size)` for a file's content, `links(meta,
 * paths)` for the other paths of a hardlinked inode, `drain()` between input chunks. File content
 * is compressed and written as it streams (data-writer.ts); everything else is kept in a compact
 * tree (tree.ts) and written by `finish()`: inode table, directory table, fragment, export, id and
 * xattr tables in the order the kernel checks, the superblock last, the image padded to 4 KiB.
 *
 * Inode numbers and table order follow only from the entries' order and content, so the same
 * input and options give a byte-identical image.
 *
 * @example
 * ```ts
 * const fd = openSync(sifPath, "r+");
 * const writer = new SquashfsWriter({ fd, offset: partitionOffset, compression: "gzip:6", root });
 * writer.entry(dirMeta, "etc");
 * writer.entry(fileMeta, "etc/hostname");
 * writer.body(Buffer.from("box\n"));
 * writer.endBody(4);
 * await writer.drain();
 * const { size } = await writer.finish();
 * ```
 */
import { availableParallelism } from "node:os";
import { SregistryError } from "../../util/errors.js";
import { displayName, type TarEntry } from "../flatten/tar-header.js";
import type { RootAttributes } from "../flatten/types.js";
import { BlockCompressor, parseCompression, type CompressionSpec } from "./compressor.js";
import { DataWriter } from "./data-writer.js";
import { writeListing, type ListingEntry } from "./directory.js";
import { DEVICE_BLOCK, InodeType, NO_FRAGMENT, SUPERBLOCK_SIZE, SuperFlags, encodeDevice } from "./format.js";
import { IdTable } from "./id-table.js";
import {
  encodeDeviceInode,
  encodeDirectoryInode,
  encodeFileInode,
  encodeIpcInode,
  encodeSymlinkInode,
  type InodeHeader,
} from "./inode.js";
import { MetadataWriter, encodeLookupTable } from "./metadata-writer.js";
import { ImageOutput } from "./output.js";
import { compressorOptionsBlock, encodeSuperblock } from "./superblock.js";
import { ImageTree, Kind, ROOT_INODE, ROOT_NODE, type KindValue } from "./tree.js";
import { XattrTable } from "./xattr.js";

export interface SquashfsWriterOptions {
  /** Open file descriptor (read/write) that receives the image. */
  fd: number;
  /** Byte offset of the image in the file (default 0); bytes before it are left alone. */
  offset?: number;
  /** "gzip", "gzip:1".."gzip:9", "zstd", "zstd:1".."zstd:22", "lz4" or "none" (default gzip level 6). */
  compression?: string | CompressionSpec;
  /** Data block size, a power of two from 4 KiB to 1 MiB (default 128 KiB). */
  blockSize?: number;
  /** Filesystem creation time in the superblock (default 0, for reproducible images). */
  mkfsTime?: number;
  /** Attributes of the root directory (default 0755 0:0 time 0). */
  root?: RootAttributes;
  /** Write the NFS export table (inode number → inode; default true). */
  exportTable?: boolean;
  /** Blocks compressed or waiting to be written at once (default 4 per core, at least 8). */
  maxInFlight?: number;
  onWarning?: (message: string) => void;
}

/** An entry as the flattener emits it; `socket` is accepted too, though tar cannot carry one. */
export type WriterEntry = Omit<TarEntry, "type" | "name"> & { type: TarEntry["type"] | "socket" };

export interface SquashfsImage {
  /** Bytes the image occupies in the file, padded to 4 KiB. */
  size: number;
  /** Bytes used by the filesystem (the superblock's field). */
  bytesUsed: number;
  inodes: number;
  paths: number;
  /** Bytes of file content stored, after compression. */
  dataBytes: number;
  /** Files stored once for several inodes with the same content. */
  duplicates: number;
  fragments: number;
}

const DEFAULT_ROOT: RootAttributes = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };
const KIND_OF: Record<WriterEntry["type"], KindValue | null> = {
  dir: Kind.Dir,
  file: Kind.File,
  symlink: Kind.Symlink,
  block: Kind.BlockDev,
  char: Kind.CharDev,
  fifo: Kind.Fifo,
  socket: Kind.Socket,
  link: null,
};
const FLUSH_BYTES = 1 << 20;

export class SquashfsWriter {
  private readonly output: ImageOutput;
  private readonly compressor: BlockCompressor;
  /** The compressor options metadata block after the superblock (empty: none). */
  private readonly compressorOptions: Buffer;
  private readonly data: DataWriter;
  /** Made at the first entry, so the root's attributes may be given late (`setRoot`). */
  private treeRows: ImageTree | null = null;
  private root: RootAttributes;
  private readonly ids = new IdTable();
  private readonly xattrs: XattrTable;
  private readonly blockSize: number;
  private last: { path: string; inode: number } | null = null;
  private finished = false;

  constructor(private readonly options: SquashfsWriterOptions) {
    const blockSize = options.blockSize ?? 128 * 1024;
    if (!Number.isInteger(Math.log2(blockSize)) || blockSize < 4096 || blockSize > 1 << 20)
      throw new SregistryError(`squashfs block size must be a power of two from 4 KiB to 1 MiB`, {
        code: "USAGE",
      });
    this.blockSize = blockSize;
    const spec = options.compression ?? "gzip";
    this.compressor = new BlockCompressor(
      typeof spec === "string" ? parseCompression(spec) : spec,
      blockSize,
    );
    this.output = new ImageOutput(options.fd, options.offset ?? 0);
    const inFlight = options.maxInFlight ?? Math.max(8, 4 * availableParallelism());
    this.data = new DataWriter(this.output, this.compressor, blockSize, inFlight);
    this.compressorOptions = compressorOptionsBlock(this.compressor.options());
    this.data.position += this.compressorOptions.length; // before any block is placed
    this.root = options.root ?? DEFAULT_ROOT;
    this.xattrs = new XattrTable(this.compressor, options.onWarning);
  }

  private get tree(): ImageTree {
    return (this.treeRows ??= new ImageTree(this.root, this.ids));
  }

  /** Sets the root directory's attributes (instead of the `root` option); only before any entry. */
  setRoot(root: RootAttributes): void {
    if (this.treeRows !== null) throw new Error("setRoot() after the first entry");
    this.root = root;
  }

  /**
   * Stores a file's content ahead of its entry (`size` > 0 bytes, given by `body()` as usual) and
   * returns its number, which `entry(meta, path, stored)` later gives to a file of that size. A
   * stored content that no entry uses still takes its space in the image.
   */
  storeBody(size: number): number {
    if (this.data.writing)
      throw new SregistryError("a file body ended early before the next one", { code: "SQUASHFS_FAILED" });
    if (!(size > 0)) throw new Error("storeBody() needs a size > 0");
    this.last = null;
    return this.data.beginFile(size);
  }

  /**
   * Adds `path` (relative, parents before children) with the metadata of `meta`. For a file,
   * `stored` is the number `storeBody` gave its content; without it the content follows by `body()`.
   */
  entry(meta: WriterEntry, path: string, stored?: number): void {
    if (this.data.writing)
      throw new SregistryError(`a file body ended early before "${displayName(path)}"`, {
        code: "SQUASHFS_FAILED",
      });
    const clean = cleanPath(path);
    const tree = this.tree;
    const xattr = this.xattrs.index(meta.xattrs);
    const kind = KIND_OF[meta.type];
    if (kind === null)
      throw new SregistryError(`hardlink "${displayName(path)}" must be given through links()`, {
        code: "SQUASHFS_FAILED",
      });
    if (kind === Kind.Dir) {
      const existing = clean === "" ? ROOT_INODE : tree.directoryInode(clean);
      if (existing !== undefined) {
        tree.setAttributes(existing, meta);
        tree.xattr.array[existing] = xattr;
        this.last = { path: clean, inode: existing };
        return;
      }
    } else if (clean === "") {
      throw new SregistryError("the image root must be a directory", { code: "SQUASHFS_FAILED" });
    }
    // A symlink's mode is always 0777 on Linux (what an unpacked tree shows, and what tar2sqfs and
    // mksquashfs store), whatever the tar header says.
    const inode = tree.addInode(kind, kind === Kind.Symlink ? { ...meta, mode: 0o777 } : meta, xattr);
    switch (kind) {
      case Kind.File:
        tree.size.array[inode] = meta.size;
        tree.data.array[inode] = meta.size === 0 ? -1 : (stored ?? this.data.beginFile(meta.size));
        break;
      case Kind.Symlink:
        tree.data.array[inode] = tree.pool.add(meta.linkname);
        tree.size.array[inode] = meta.linkname.length;
        break;
      case Kind.BlockDev:
      case Kind.CharDev:
        tree.data.array[inode] = encodeDevice(meta.devmajor, meta.devminor);
        break;
    }
    tree.addPath(clean, inode);
    this.last = { path: clean, inode };
  }

  /** Content of the file last given to `entry`. */
  body(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (!this.data.writing)
      throw new SregistryError("file content given for an entry that has none", { code: "SQUASHFS_FAILED" });
    this.data.write(chunk);
  }

  /** Checks that the file's content is complete (it is stored as soon as `size` bytes arrived). */
  endBody(_size: number): void {
    if (this.data.writing)
      throw new SregistryError(
        `the body of "${displayName(this.last?.path ?? "")}" is shorter than its size`,
        {
          code: "SQUASHFS_FAILED",
        },
      );
  }

  /** Adds every path but the first as another link to the inode just written under `paths[0]`. */
  links(_meta: WriterEntry, paths: readonly string[]): void {
    if (paths.length < 2) return;
    const last = this.last;
    if (last === null || last.path !== cleanPath(paths[0]!))
      throw new SregistryError(`hardlinks to "${displayName(paths[0]!)}" must follow its entry`, {
        code: "SQUASHFS_FAILED",
      });
    if (this.tree.kind.array[last.inode] === Kind.Dir)
      throw new SregistryError(`cannot hardlink the directory "${displayName(paths[0]!)}"`, {
        code: "SQUASHFS_FAILED",
      });
    for (const path of paths.slice(1)) this.tree.addPath(cleanPath(path), last.inode);
  }

  /** Resolves when the writer can take more input; throws if writing failed. */
  drain(): Promise<void> {
    return this.data.drain();
  }

  /**
   * Stops writing (for a cancelled build): resolves once no write is in flight, so `fd` can be
   * closed safely. The image is incomplete afterwards; `finish()` must not be called.
   */
  abort(reason: unknown): Promise<void> {
    this.finished = true;
    return this.data.abort(reason);
  }

  /** Writes everything but file content, then the superblock; returns the image's size. */
  async finish(): Promise<SquashfsImage> {
    if (this.finished) throw new Error("finish() called twice");
    this.finished = true;
    if (this.data.writing) this.endBody(0);
    await this.data.finish();
    const dataEnd = this.data.position;
    const tables = new TableWriter(this.compressor, this.output, dataEnd);
    const built = await new InodeWriter(this.tree, this.data, this.compressor, tables).write();
    const fragmentTable = this.data.fragmentCount > 0 ? await tables.lookup(this.fragmentRecords()) : null;
    const exportTable = this.options.exportTable === false ? null : await tables.lookup(built.exportRecords);
    const idTable = await tables.lookup(this.ids.encode());
    let xattrTable: number | null = null;
    if (this.xattrs.count > 0) {
      const { bytes, tableStart } = this.xattrs.encode(tables.position);
      await tables.raw(bytes);
      xattrTable = tableStart;
    }
    const bytesUsed = tables.position;
    const size = Math.ceil(bytesUsed / DEVICE_BLOCK) * DEVICE_BLOCK;
    if (size > bytesUsed) await tables.raw(Buffer.alloc(size - bytesUsed));
    await this.output.discardAfter(size);
    const superblock = encodeSuperblock({
      inodes: this.tree.inodeCount,
      mkfsTime: this.options.mkfsTime ?? 0,
      blockSize: this.blockSize,
      fragments: this.data.fragmentCount,
      compressor: this.compressor.id,
      flags: this.flags(exportTable !== null, xattrTable !== null),
      ids: this.ids.count,
      rootRef: built.rootRef,
      bytesUsed,
      idTable,
      xattrTable,
      inodeTable: dataEnd,
      directoryTable: built.directoryTable,
      fragmentTable,
      exportTable,
    });
    if (this.compressorOptions.length > 0) await this.output.write(this.compressorOptions, SUPERBLOCK_SIZE);
    await this.output.write(superblock, 0);
    return {
      size,
      bytesUsed,
      inodes: this.tree.inodeCount,
      paths: this.tree.pathCount,
      dataBytes: dataEnd - superblock.length - this.compressorOptions.length,
      duplicates: this.data.duplicates,
      fragments: this.data.fragmentCount,
    };
  }

  private fragmentRecords(): Buffer {
    const count = this.data.fragmentCount;
    const records = Buffer.alloc(count * 16);
    for (let i = 0; i < count; i++) {
      records.writeBigUInt64LE(BigInt(this.data.fragmentStart.array[i]!), i * 16);
      records.writeUInt32LE(this.data.fragmentSize.array[i]!, i * 16 + 8);
    }
    return records;
  }

  private flags(exportable: boolean, xattrs: boolean): number {
    let flags = SuperFlags.AlwaysFragments | SuperFlags.Duplicates;
    if (exportable) flags |= SuperFlags.Exportable;
    if (!xattrs) flags |= SuperFlags.NoXattrs;
    if (this.compressorOptions.length > 0) flags |= SuperFlags.CompressorOptions;
    if (!this.compressor.enabled) {
      flags |=
        SuperFlags.UncompressedInodes |
        SuperFlags.UncompressedData |
        SuperFlags.UncompressedFragments |
        SuperFlags.UncompressedXattrs |
        SuperFlags.UncompressedIds;
    }
    return flags;
  }
}

/** Appends tables one after another after the data, tracking the position. */
class TableWriter {
  constructor(
    private readonly compressor: BlockCompressor,
    private readonly output: ImageOutput,
    public position: number,
  ) {}

  async raw(bytes: Buffer): Promise<void> {
    await this.output.write(bytes, this.position);
    this.position += bytes.length;
  }

  /** Writes a lookup table and returns where its block list starts. */
  async lookup(records: Buffer): Promise<number> {
    const { bytes, listStart } = encodeLookupTable(records, this.compressor, this.position);
    await this.raw(bytes);
    return listStart;
  }
}

/**
 * Numbers the inodes and writes the inode and directory tables. Order: a directory's
 * subdirectories (recursively), then its other children's inodes, then its listing and its own
 * inode, so every reference a listing needs already exists; the root comes last.
 */
class InodeWriter {
  private readonly number: Uint32Array;
  private readonly ref: Float64Array;
  private readonly inodes: MetadataWriter;
  private readonly directories: MetadataWriter;
  private start: Uint32Array = new Uint32Array(0);
  private children: Uint32Array = new Uint32Array(0);
  private next = 0;

  constructor(
    private readonly tree: ImageTree,
    private readonly data: DataWriter,
    compressor: BlockCompressor,
    private readonly tables: TableWriter,
  ) {
    this.number = new Uint32Array(tree.inodeCount);
    this.ref = new Float64Array(tree.inodeCount);
    this.inodes = new MetadataWriter(compressor);
    this.directories = new MetadataWriter(compressor);
  }

  async write(): Promise<{ rootRef: number; directoryTable: number; exportRecords: Buffer }> {
    ({ start: this.start, children: this.children } = this.tree.sortedChildren());
    this.assignNumbers(ROOT_NODE);
    await this.writeDirectory(ROOT_NODE);
    this.inodes.flush();
    await this.tables.raw(Buffer.concat(this.inodes.take()));
    const directoryTable = this.tables.position;
    this.directories.flush();
    await this.tables.raw(Buffer.concat(this.directories.take()));
    const exportRecords = Buffer.alloc(this.tree.inodeCount * 8);
    for (let inode = 0; inode < this.tree.inodeCount; inode++) {
      exportRecords.writeBigUInt64LE(BigInt(this.ref[inode]!), (this.number[inode]! - 1) * 8);
    }
    return { rootRef: this.ref[ROOT_INODE]!, directoryTable, exportRecords };
  }

  private isDirectory(node: number): boolean {
    return this.tree.kind.array[this.tree.inodeOf.array[node]!] === Kind.Dir;
  }

  private childrenOf(node: number): Uint32Array {
    return this.children.subarray(this.start[node]!, this.start[node + 1]!);
  }

  /**
   * Every directory below and including `root` with its children, children before parents
   * (iterative, so deep trees cannot overflow the stack). Both numbering and writing walk in this
   * order: squashfs wants a directory's entries written before the directory inode that lists them.
   */
  private *directoriesPostOrder(root: number): Generator<{ node: number; kids: Uint32Array }> {
    const stack: { node: number; expanded: boolean }[] = [{ node: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const kids = this.childrenOf(top.node);
      if (!top.expanded) {
        top.expanded = true;
        for (let i = kids.length - 1; i >= 0; i--) {
          if (this.isDirectory(kids[i]!)) stack.push({ node: kids[i]!, expanded: false });
        }
        continue;
      }
      stack.pop();
      yield { node: top.node, kids };
    }
  }

  private assignNumbers(root: number): void {
    for (const { node, kids } of this.directoriesPostOrder(root)) {
      for (const child of kids) {
        const inode = this.tree.inodeOf.array[child]!;
        if (!this.isDirectory(child) && this.number[inode] === 0) this.number[inode] = ++this.next;
      }
      this.number[this.tree.inodeOf.array[node]!] = ++this.next;
    }
  }

  private async writeDirectory(root: number): Promise<void> {
    const written = new Uint8Array(this.tree.inodeCount);
    for (const { node, kids } of this.directoriesPostOrder(root)) {
      for (const child of kids) {
        const inode = this.tree.inodeOf.array[child]!;
        if (this.isDirectory(child) || written[inode] === 1) continue;
        written[inode] = 1;
        this.ref[inode] = this.inodes.ref();
        this.inodes.append(this.encodeLeaf(inode));
      }
      this.writeDirectoryInode(node, kids);
      if (this.inodes.pendingSize > FLUSH_BYTES) await this.tables.raw(Buffer.concat(this.inodes.take()));
    }
  }

  private writeDirectoryInode(node: number, kids: Uint32Array): void {
    const tree = this.tree;
    const entries: ListingEntry[] = [];
    let subdirectories = 0;
    for (const child of kids) {
      const inode = tree.inodeOf.array[child]!;
      const kind = tree.kind.array[inode]!;
      if (kind === Kind.Dir) subdirectories++;
      entries.push({
        name: tree.name(child),
        number: this.number[inode]!,
        ref: this.ref[inode]!,
        type: kind,
      });
    }
    const listing = writeListing(entries, this.directories);
    const inode = tree.inodeOf.array[node]!;
    const parent =
      node === ROOT_NODE ? tree.inodeCount + 1 : this.number[tree.inodeOf.array[tree.parent.array[node]!]!]!;
    this.ref[inode] = this.inodes.ref();
    const bytes = encodeDirectoryInode(
      this.header(inode),
      { ...listing, links: 2 + subdirectories, parent, xattr: tree.xattr.array[inode]! },
      entries.length,
    );
    this.inodes.append(bytes);
  }

  private header(inode: number): InodeHeader {
    const tree = this.tree;
    return {
      mode: tree.mode.array[inode]!,
      uid: tree.uid.array[inode]!,
      gid: tree.gid.array[inode]!,
      mtime: tree.mtime.array[inode]!,
      number: this.number[inode]!,
    };
  }

  private encodeLeaf(inode: number): Buffer {
    const tree = this.tree;
    const h = this.header(inode);
    const links = tree.links.array[inode]!;
    const xattr = tree.xattr.array[inode]!;
    const kind = tree.kind.array[inode]!;
    switch (kind) {
      case Kind.File:
        return encodeFileInode(h, this.fileLayout(inode, links, xattr));
      case Kind.Symlink: {
        const target = tree.pool.bytes(tree.data.array[inode]!, tree.size.array[inode]!);
        return encodeSymlinkInode(h, { links, target, xattr });
      }
      case Kind.BlockDev:
      case Kind.CharDev:
        return encodeDeviceInode(h, kind === Kind.BlockDev ? InodeType.BlockDev : InodeType.CharDev, {
          links,
          device: tree.data.array[inode]!,
          xattr,
        });
      case Kind.Fifo:
      case Kind.Socket:
        return encodeIpcInode(h, kind === Kind.Fifo ? InodeType.Fifo : InodeType.Socket, { links, xattr });
      default:
        throw new Error(`unexpected inode kind ${kind}`);
    }
  }

  private fileLayout(inode: number, links: number, xattr: number) {
    const file = this.tree.data.array[inode]!;
    const size = this.tree.size.array[inode]!;
    if (file < 0) {
      return {
        start: 0,
        size,
        fragment: NO_FRAGMENT,
        fragmentOffset: 0,
        blockSizes: new Uint32Array(0),
        links,
        sparse: 0,
        xattr,
      };
    }
    const t = this.data.files;
    const first = t.firstBlock.array[file]!;
    const blocks = Math.floor(size / this.data.blockSize);
    return {
      start: t.start.array[file]!,
      size,
      fragment: t.fragment.array[file]!,
      fragmentOffset: t.fragmentOffset.array[file]!,
      blockSizes: t.blockSizes.array.subarray(first, first + blocks),
      links,
      sparse: t.sparse.get(file) ?? 0,
      xattr,
    };
  }
}

/** Strips `./`, leading and trailing slashes; the flattener already gives clean relative paths. */
function cleanPath(path: string): string {
  let clean = path;
  while (clean.startsWith("./")) clean = clean.slice(2);
  clean = clean.replace(/^\/+/, "").replace(/\/+$/, "");
  return clean === "." ? "" : clean;
}
