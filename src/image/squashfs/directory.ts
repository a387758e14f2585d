/**
 * Directory listings (squashfs-tools-ng `doc/format.adoc`, "Directory Table"): entries sorted by
 * name, in runs that each start with a header naming one inode metadata block and a base inode
 * number. A new run starts when the inode block changes, the number no longer fits the signed
 * 16-bit difference, 256 entries are reached, or the run would cross a metadata block boundary;
 * the last rule (squashfs-tools-ng's) makes each run start an index entry that points a lookup
 * at the right block.
 *
 * @example
 * ```ts
 * const listing = writeListing(entries, directoryTable); // entries sorted by name
 * encodeDirectoryInode(header, { ...listing, links, parent, xattr }, entries.length);
 * ```
 */
import { MAX_DIR_RUN, METADATA_SIZE } from "./format.js";
import { scratch, type DirectoryIndexEntry } from "./inode.js";
import type { MetadataWriter } from "./metadata-writer.js";

export interface ListingEntry {
  name: Buffer;
  /** Inode number. */
  number: number;
  /** Inode reference: block << 16 | offset. */
  ref: number;
  /** Basic inode type. */
  type: number;
}

export interface Listing {
  block: number;
  offset: number;
  listingSize: number;
  index: DirectoryIndexEntry[];
}

const HEADER_SIZE = 12;
const ENTRY_SIZE = 8;

export function writeListing(entries: readonly ListingEntry[], table: MetadataWriter): Listing {
  const { block, offset } = table.position();
  const index: DirectoryIndexEntry[] = [];
  let listingSize = 0;
  for (let i = 0; i < entries.length;) {
    const count = runLength(entries, i, table.position().offset);
    const first = entries[i]!;
    index.push({ index: listingSize, start: table.position().block, name: first.name });
    const head = scratch(HEADER_SIZE);
    head.writeUInt32LE(count - 1, 0);
    head.writeUInt32LE(Math.floor(first.ref / 65536), 4);
    head.writeUInt32LE(first.number, 8);
    table.append(head);
    listingSize += HEADER_SIZE;
    for (const entry of entries.slice(i, i + count)) {
      const bytes = scratch(ENTRY_SIZE + entry.name.length);
      bytes.writeUInt16LE(entry.ref % 65536, 0);
      bytes.writeInt16LE(entry.number - first.number, 2);
      bytes.writeUInt16LE(entry.type, 4);
      bytes.writeUInt16LE(entry.name.length - 1, 6);
      entry.name.copy(bytes, ENTRY_SIZE);
      table.append(bytes);
      listingSize += bytes.length;
    }
    i += count;
  }
  return { block, offset, listingSize, index };
}

/** How many entries from `from` fit one run started at `offset` in the current block. */
function runLength(entries: readonly ListingEntry[], from: number, offset: number): number {
  const first = entries[from]!;
  const block = Math.floor(first.ref / 65536);
  let size = (offset + HEADER_SIZE) % METADATA_SIZE;
  let count = 0;
  for (let i = from; i < entries.length && count < MAX_DIR_RUN; i++) {
    const entry = entries[i]!;
    const diff = entry.number - first.number;
    if (Math.floor(entry.ref / 65536) !== block || diff > 32767 || diff < -32767) break;
    size += ENTRY_SIZE + entry.name.length;
    if (count > 0 && size > METADATA_SIZE) break;
    count++;
  }
  return count;
}
