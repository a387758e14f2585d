/**
 * The image's tree kept compactly until the end of the build: paths and inodes are rows in typed
 * arrays (a few dozen bytes each), names and link targets live in one byte pool. Only directories
 * are found by path (a Map of directory paths), since entries arrive parents first and only a
 * directory can be a parent. Children lists are built once, at the end (`sortedChildren`).
 *
 * @example
 * ```ts
 * const tree = new ImageTree({ mode: 0o755, uid: 0, gid: 0, mtime: 0 }, new IdTable());
 * const inode = tree.addInode(Kind.File, { mode: 0o644, uid: 0, gid: 0, mtime: 0 });
 * tree.addPath("etc/hostname", inode);
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import { displayName } from "../flatten/tar-header.js";
import { MAX_NAME, NO_XATTR } from "./format.js";
import type { IdTable } from "./id-table.js";
import {
  BytePool,
  GrowableFloat64,
  GrowableUint16,
  GrowableUint32,
  GrowableUint8,
} from "../../util/growable.js";

/** Inode kinds, numbered as squashfs's basic inode types. */
export const Kind = { Dir: 1, File: 2, Symlink: 3, BlockDev: 4, CharDev: 5, Fifo: 6, Socket: 7 } as const;
export type KindValue = (typeof Kind)[keyof typeof Kind];

export interface Attributes {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

export const ROOT_NODE = 0;
export const ROOT_INODE = 0;

export class ImageTree {
  // One row per path.
  readonly parent = new GrowableUint32();
  readonly nameStart = new GrowableUint32();
  readonly nameLength = new GrowableUint16();
  readonly inodeOf = new GrowableUint32();
  // One row per inode.
  readonly kind = new GrowableUint8();
  readonly mode = new GrowableUint16();
  /** Indexes into the id table. */
  readonly uid = new GrowableUint16();
  readonly gid = new GrowableUint16();
  readonly mtime = new GrowableUint32();
  readonly links = new GrowableUint32();
  readonly xattr = new GrowableUint32();
  /** File: number in the data writer's FileTable (or -1 when empty); symlink: target offset; device: number. */
  readonly data = new GrowableFloat64();
  /** File size, or symlink target length. */
  readonly size = new GrowableFloat64();
  readonly pool = new BytePool();
  private readonly dirs = new Map<string, number>([["", ROOT_NODE]]);

  constructor(
    root: Attributes,
    private readonly ids: IdTable,
  ) {
    this.addInode(Kind.Dir, root);
    this.parent.push(ROOT_NODE);
    this.nameStart.push(0);
    this.nameLength.push(0);
    this.inodeOf.push(ROOT_INODE);
  }

  get pathCount(): number {
    return this.parent.length;
  }

  get inodeCount(): number {
    return this.kind.length;
  }

  addInode(kind: KindValue, attrs: Attributes, xattr = NO_XATTR): number {
    const inode = this.kind.push(kind);
    this.mode.push(0);
    this.uid.push(0);
    this.gid.push(0);
    this.mtime.push(0);
    this.setAttributes(inode, attrs);
    this.links.push(0);
    this.xattr.push(xattr);
    this.data.push(0);
    this.size.push(0);
    return inode;
  }

  /** Sets mode, owner and time of an inode; times are clamped to squashfs's unsigned 32 bits. */
  setAttributes(inode: number, attrs: Attributes): void {
    this.mode.array[inode] = attrs.mode & 0o7777;
    this.uid.array[inode] = this.ids.index(attrs.uid);
    this.gid.array[inode] = this.ids.index(attrs.gid);
    this.mtime.array[inode] = Math.max(0, Math.min(0xffffffff, Math.floor(attrs.mtime)));
  }

  /** The directory inode at `path`, or undefined. */
  directoryInode(path: string): number | undefined {
    const node = this.dirs.get(path);
    return node === undefined ? undefined : this.inodeOf.array[node];
  }

  /**
   * Adds `path` (cleaned, relative, binary string) for `inode`. A missing parent is created with the
   * root's attributes, as tar2sqfs does with its `--defaults` (the flattener always sends parents).
   */
  addPath(path: string, inode: number): void {
    const slash = path.lastIndexOf("/");
    const parentPath = slash < 0 ? "" : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (name.length === 0 || name === "." || name === "..")
      throw new SregistryError(`invalid path "${displayName(path)}" in the image`, {
        code: "SQUASHFS_FAILED",
      });
    if (name.length > MAX_NAME)
      throw new SregistryError(`name longer than ${MAX_NAME} bytes in "${displayName(path)}"`, {
        code: "SQUASHFS_FAILED",
      });
    const parent = this.dirs.get(parentPath) ?? this.implicitDirectory(parentPath);
    const node = this.parent.push(parent);
    this.nameStart.push(this.pool.add(name));
    this.nameLength.push(name.length);
    this.inodeOf.push(inode);
    this.links.array[inode]!++;
    if (this.kind.array[inode] === Kind.Dir) {
      if (this.dirs.has(path))
        throw new SregistryError(`"${displayName(path)}" appears twice in the image`, {
          code: "SQUASHFS_FAILED",
        });
      this.dirs.set(path, node);
    }
  }

  private implicitDirectory(path: string): number {
    const root = ROOT_INODE;
    const inode = this.addInode(Kind.Dir, {
      mode: this.mode.array[root]!,
      uid: this.ids.id(this.uid.array[root]!),
      gid: this.ids.id(this.gid.array[root]!),
      mtime: this.mtime.array[root]!,
    });
    this.addPath(path, inode);
    return this.dirs.get(path)!;
  }

  /**
   * Children of every directory path, sorted by name bytes (the order squashfs lookups rely on):
   * `children.subarray(start[node], start[node + 1])`. Throws when a name appears twice.
   */
  sortedChildren(): { start: Uint32Array; children: Uint32Array } {
    const count = this.pathCount;
    const start = new Uint32Array(count + 1);
    const parents = this.parent.array;
    for (let node = 1; node < count; node++) start[parents[node]! + 1]!++;
    for (let node = 0; node < count; node++) start[node + 1]! += start[node]!;
    const fill = start.slice(0, count);
    const children = new Uint32Array(Math.max(0, count - 1));
    for (let node = 1; node < count; node++) children[fill[parents[node]!]!++] = node;
    const names = this.nameStart.array;
    const lengths = this.nameLength.array;
    const byName = (a: number, b: number): number =>
      this.pool.compare(names[a]!, lengths[a]!, names[b]!, lengths[b]!);
    for (let node = 0; node < count; node++) {
      const from = start[node]!;
      const to = start[node + 1]!;
      if (to - from < 2) continue;
      const list = children.subarray(from, to).sort(byName);
      for (let i = 1; i < list.length; i++) {
        if (byName(list[i - 1]!, list[i]!) === 0) {
          const name = this.pool.bytes(names[list[i]!]!, lengths[list[i]!]!).toString("latin1");
          throw new SregistryError(`"${displayName(name)}" appears twice in one directory of the image`, {
            code: "SQUASHFS_FAILED",
          });
        }
      }
    }
    return { start, children };
  }

  name(node: number): Buffer {
    return this.pool.bytes(this.nameStart.array[node]!, this.nameLength.array[node]!);
  }
}
