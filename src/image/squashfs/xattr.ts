/**
 * The extended attribute table. Every distinct set of attributes is stored once as key/value
 * records in metadata blocks; a lookup table maps the 32-bit index an inode carries to the set's
 * reference, count and size; a small header (uncompressed) points at both. Layout per
 * squashfs-tools-ng `doc/format.adoc` ("Extended Attribute Table") and the kernel's
 * `fs/squashfs/xattr_id.c`, which insists that the header's block list ends the image.
 *
 * squashfs knows three key namespaces (`user.`, `trusted.`, `security.`); others (e.g.
 * `system.posix_acl_access`) cannot be stored and are dropped with a warning, as tar2sqfs does.
 * Keys are sorted so that the same set in another order is stored once.
 *
 * @example
 * ```ts
 * const xattrs = new XattrTable();
 * const index = xattrs.index(new Map([["security.capability", cap]])); // 0
 * const { bytes, tableStart } = xattrs.encode(compressor, position);
 * ```
 */
import type { BlockCompressor } from "./compressor.js";
import { NO_XATTR } from "./format.js";
import { MetadataWriter, encodeLookupTable } from "./metadata-writer.js";

const PREFIXES: readonly [string, number][] = [
  ["user.", 0],
  ["trusted.", 1],
  ["security.", 2],
];

interface StoredSet {
  ref: number;
  count: number;
  size: number;
}

export class XattrTable {
  private readonly indexes = new Map<string, number>();
  private readonly sets: StoredSet[] = [];
  private kv: MetadataWriter | null = null;
  private readonly dropped = new Set<string>();

  constructor(
    private readonly compressor: BlockCompressor,
    private readonly onWarning: (message: string) => void = () => {},
  ) {}

  /** The index of `xattrs` in the table (adding it when new), or NO_XATTR when nothing to store. */
  index(xattrs: ReadonlyMap<string, Buffer> | null): number {
    if (xattrs === null || xattrs.size === 0) return NO_XATTR;
    const records: { type: number; name: string; value: Buffer }[] = [];
    for (const key of [...xattrs.keys()].sort()) {
      const prefix = PREFIXES.find(([p]) => key.startsWith(p) && key.length > p.length);
      if (prefix === undefined) {
        this.warnDropped(key);
        continue;
      }
      records.push({ type: prefix[1], name: key.slice(prefix[0].length), value: xattrs.get(key)! });
    }
    if (records.length === 0) return NO_XATTR;
    const canonical = records.map((r) => `${r.type}\0${r.name}\0${r.value.toString("latin1")}`).join("\0");
    let index = this.indexes.get(canonical);
    if (index === undefined) {
      index = this.sets.length;
      this.sets.push(this.store(records));
      this.indexes.set(canonical, index);
    }
    return index;
  }

  get count(): number {
    return this.sets.length;
  }

  /**
   * The whole table placed at `start`: key/value blocks, lookup blocks, then the header and the
   * block list. `tableStart` is the header's position (the superblock's xattr table field).
   */
  encode(start: number): { bytes: Buffer; tableStart: number } {
    const kv = this.kv!;
    kv.flush();
    const kvBytes = Buffer.concat(kv.take());
    const records = Buffer.alloc(this.sets.length * 16);
    this.sets.forEach((set, i) => {
      records.writeBigUInt64LE(BigInt(set.ref), i * 16);
      records.writeUInt32LE(set.count, i * 16 + 8);
      records.writeUInt32LE(set.size, i * 16 + 12);
    });
    const lookup = encodeLookupTable(records, this.compressor, start + kvBytes.length);
    // The lookup table's list is preceded by the header: move the list behind a 16-byte header.
    const blocksLength = lookup.listStart - (start + kvBytes.length);
    const header = Buffer.alloc(16);
    header.writeBigUInt64LE(BigInt(start), 0);
    header.writeUInt32LE(this.sets.length, 8);
    const bytes = Buffer.concat([
      kvBytes,
      lookup.bytes.subarray(0, blocksLength),
      header,
      lookup.bytes.subarray(blocksLength),
    ]);
    return { bytes, tableStart: lookup.listStart };
  }

  private store(records: { type: number; name: string; value: Buffer }[]): StoredSet {
    this.kv ??= new MetadataWriter(this.compressor);
    const ref = this.kv.ref();
    let size = 0;
    for (const { type, name, value } of records) {
      const key = Buffer.alloc(4 + name.length);
      key.writeUInt16LE(type, 0);
      key.writeUInt16LE(name.length, 2);
      key.write(name, 4, "latin1");
      const valueHeader = Buffer.alloc(4);
      valueHeader.writeUInt32LE(value.length);
      this.kv.append(key);
      this.kv.append(valueHeader);
      this.kv.append(value);
      size += key.length + 4 + value.length;
    }
    return { ref, count: records.length, size };
  }

  private warnDropped(key: string): void {
    if (this.dropped.has(key)) return;
    this.dropped.add(key);
    this.onWarning(`extended attribute ${JSON.stringify(key)} has no squashfs namespace; not stored`);
  }
}
