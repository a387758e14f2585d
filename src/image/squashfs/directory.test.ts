import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BlockCompressor } from "./compressor.js";
import { writeListing, type ListingEntry } from "./directory.js";
import { InodeType, NO_XATTR } from "./format.js";
import { encodeDirectoryInode } from "./inode.js";
import { MetadataWriter } from "./metadata-writer.js";

const none = new BlockCompressor({ name: "none", level: 0 });

function entries(count: number, block = () => 0): ListingEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    name: Buffer.from(`name-${String(i).padStart(6, "0")}`),
    number: i + 1,
    ref: block() * 65536 + i * 32,
    type: InodeType.File,
  }));
}

/** Decodes a listing: headers with the names that follow each. */
function runs(
  bytes: Buffer,
  size: number,
): { count: number; start: number; base: number; names: string[] }[] {
  const out: { count: number; start: number; base: number; names: string[] }[] = [];
  for (let at = 0; at < size;) {
    const run = {
      count: bytes.readUInt32LE(at) + 1,
      start: bytes.readUInt32LE(at + 4),
      base: bytes.readUInt32LE(at + 8),
      names: [] as string[],
    };
    at += 12;
    for (let i = 0; i < run.count; i++) {
      const length = bytes.readUInt16LE(at + 6) + 1;
      run.names.push(bytes.subarray(at + 8, at + 8 + length).toString());
      at += 8 + length;
    }
    out.push(run);
  }
  return out;
}

describe("directory listings", () => {
  it("starts a run every 256 entries and at every metadata block boundary, each with an index entry", () => {
    const table = new MetadataWriter(none);
    const list = entries(1000);
    const listing = writeListing(list, table);
    table.flush();
    const raw = Buffer.concat(table.take().map((block) => block.subarray(2))); // drop the block headers
    const found = runs(raw, listing.listingSize);
    assert.ok(found.every((r) => r.count <= 256));
    assert.deepEqual(
      found.flatMap((r) => r.names),
      list.map((e) => e.name.toString()),
    );
    assert.equal(listing.index.length, found.length);
    assert.deepEqual(
      listing.index.map((e) => e.name.toString()),
      found.map((r) => r.names[0]),
    );
    // 1000 entries of 19 bytes cross one 8 KiB block: the run there must end at the boundary.
    assert.ok(found.length > Math.ceil(1000 / 256), `${found.length} runs`);
    assert.equal(listing.index.at(-1)!.start, 8194); // second block: 2-byte header + 8 KiB raw
  });

  it("starts a run when the inode block changes or numbers are too far apart", () => {
    const table = new MetadataWriter(none);
    let n = 0;
    const list = entries(10, () => (n++ < 5 ? 0 : 1));
    list[9]!.number = 100_000;
    const listing = writeListing(list, table);
    table.flush();
    const raw = Buffer.concat(table.take().map((block) => block.subarray(2)));
    assert.deepEqual(
      runs(raw, listing.listingSize).map((r) => [r.count, r.start]),
      [
        [5, 0],
        [4, 1],
        [1, 1],
      ],
    );
  });

  it("a directory gets the extended inode with its index from 256 entries on", () => {
    const header = { mode: 0o755, uid: 0, gid: 0, mtime: 0, number: 1 };
    const listing = {
      block: 0,
      offset: 0,
      listingSize: 100,
      index: [{ index: 0, start: 0, name: Buffer.from("a") }],
    };
    const small = Buffer.from(
      encodeDirectoryInode(header, { ...listing, links: 2, parent: 2, xattr: NO_XATTR }, 255),
    ); // copied: encoders share one buffer
    const large = Buffer.from(
      encodeDirectoryInode(header, { ...listing, links: 2, parent: 2, xattr: NO_XATTR }, 256),
    ); // copied: encoders share one buffer
    assert.equal(small.readUInt16LE(0), InodeType.Dir);
    assert.equal(large.readUInt16LE(0), InodeType.ExtDir);
    assert.equal(large.readUInt16LE(32), 1); // index count
    assert.equal(large.subarray(52).toString(), "a");
  });
});
