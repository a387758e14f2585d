/**
 * The inodes of the flattener's tree, stored as columns instead of one tar entry object each: a
 * few dozen bytes per inode where a kept `TarEntry` (with its name string) cost about 220.
 *
 * What most entries share — type, mode, owner ids and names — is interned as one "attribute set"
 * number; size, time and the body's place (layer, entry index) are typed-array columns. The rare
 * parts (symlink targets, device numbers, xattrs, in-memory overlay content) live in a side map.
 * The entry's tar name is not kept, only a hash of it: it serves to check that a layer read again
 * in the second pass still has the same entry there (flatten.ts `emitLayerBodies`). `entry()`
 * gives back a `TarEntry` equal to the one added, its name aside.
 *
 * @example
 * ```ts
 * const inodes = new InodeTable();
 * const inode = inodes.add(entry, { layer: 0, index: 17 });
 * inodes.entry(inode, "etc/passwd"); // the entry's metadata, named "etc/passwd"
 * inodes.layer(inode);               // 0
 * ```
 */
import { GrowableFloat64, GrowableInt32, GrowableUint32 } from "../../util/growable.js";
import type { EntryType, TarEntry } from "./tar-header.js";

/** Where a file's body comes from: an entry of a layer, or bytes held in memory. */
export type BodySource = { layer: number; index: number } | { content: Buffer };

interface AttributeSet {
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

interface RareParts {
  /** Set when the time does not fit `mtimes`. */
  mtime?: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer> | null;
  content: Buffer | null;
}

/** `layer()` of an inode whose content is in memory, or that has no body source. */
export const NO_LAYER = -1;

export class InodeTable {
  private readonly attributes = new GrowableUint32();
  private readonly sizes = new GrowableFloat64();
  /** Times that fit 32 signed bits (all but a few); the others are in `rare` (`mtime`). */
  private readonly mtimes = new GrowableInt32();
  private readonly layers = new GrowableInt32();
  private readonly indexes = new GrowableUint32();
  private readonly nameHashes = new GrowableUint32();
  private readonly attributeSets: AttributeSet[] = [];
  private readonly attributeNumbers = new Map<string, number>();
  private readonly rare = new Map<number, RareParts>();

  get count(): number {
    return this.sizes.length;
  }

  /** Adds an inode with `entry`'s metadata; `source` is where its body is (none for a directory). */
  add(entry: TarEntry, source?: BodySource): number {
    const inode = this.sizes.push(entry.size);
    this.attributes.push(this.attributeNumber(entry));
    const mtime = entry.mtime | 0;
    this.mtimes.push(mtime);
    this.nameHashes.push(hashName(entry.name));
    const content = source !== undefined && "content" in source ? source.content : null;
    const place = source !== undefined && "layer" in source ? source : null;
    this.layers.push(place === null ? NO_LAYER : place.layer);
    this.indexes.push(place === null ? 0 : place.index);
    const { linkname, devmajor, devminor, xattrs } = entry;
    const wide = mtime !== entry.mtime;
    if (linkname !== "" || devmajor !== 0 || devminor !== 0 || xattrs !== null || content !== null || wide) {
      this.rare.set(inode, {
        linkname,
        devmajor,
        devminor,
        xattrs,
        content,
        ...(wide ? { mtime: entry.mtime } : {}),
      });
    }
    return inode;
  }

  /** The inode's metadata as a tar entry named `name`. */
  entry(inode: number, name: string): TarEntry {
    const { type, mode, uid, gid, uname, gname } = this.attributeSets[this.attributes.array[inode]!]!;
    const rare = this.rare.get(inode);
    return {
      name,
      type,
      mode,
      uid,
      gid,
      size: this.sizes.array[inode]!,
      mtime: rare?.mtime ?? this.mtimes.array[inode]!,
      linkname: rare?.linkname ?? "",
      uname,
      gname,
      devmajor: rare?.devmajor ?? 0,
      devminor: rare?.devminor ?? 0,
      xattrs: rare?.xattrs ?? null,
    };
  }

  type(inode: number): EntryType {
    return this.attributeSets[this.attributes.array[inode]!]!.type;
  }

  size(inode: number): number {
    return this.sizes.array[inode]!;
  }

  linkname(inode: number): string {
    return this.rare.get(inode)?.linkname ?? "";
  }

  /** The layer whose entry `index(inode)` holds the body, or `NO_LAYER`. */
  layer(inode: number): number {
    return this.layers.array[inode]!;
  }

  index(inode: number): number {
    return this.indexes.array[inode]!;
  }

  /** The body held in memory (overlay files), or null. */
  content(inode: number): Buffer | null {
    return this.rare.get(inode)?.content ?? null;
  }

  /** Whether `name` is (as far as a 32-bit hash tells) the tar name the inode was added with. */
  nameMatches(inode: number, name: string): boolean {
    return this.nameHashes.array[inode] === hashName(name);
  }

  private attributeNumber(entry: TarEntry): number {
    const key = `${entry.type} ${entry.mode} ${entry.uid} ${entry.gid} ${entry.uname.length}:${entry.uname}${entry.gname}`;
    let number = this.attributeNumbers.get(key);
    if (number === undefined) {
      number = this.attributeSets.length;
      const { type, mode, uid, gid, uname, gname } = entry;
      this.attributeSets.push({ type, mode, uid, gid, uname, gname });
      this.attributeNumbers.set(key, number);
    }
    return number;
  }
}

/** FNV-1a over the name's char codes (bytes: names are binary strings). */
export function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
