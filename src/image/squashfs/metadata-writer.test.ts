import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { BlockCompressor } from "./compressor.js";
import { METADATA_SIZE } from "./format.js";
import { MetadataWriter, encodeLookupTable } from "./metadata-writer.js";

const gzip = new BlockCompressor({ name: "gzip", level: 6 });
const none = new BlockCompressor({ name: "none", level: 0 });

/** Splits a table into its blocks: [stored size, raw?, payload]. */
function blocks(table: Buffer): { raw: boolean; data: Buffer }[] {
  const out: { raw: boolean; data: Buffer }[] = [];
  for (let at = 0; at < table.length;) {
    const header = table.readUInt16LE(at);
    const size = header & 0x7fff;
    const stored = table.subarray(at + 2, at + 2 + size);
    const raw = (header & 0x8000) !== 0;
    out.push({ raw, data: raw ? stored : inflateSync(stored) });
    at += 2 + size;
  }
  return out;
}

describe("MetadataWriter", () => {
  it("cuts the stream into 8 KiB blocks and references give block position and offset", () => {
    const writer = new MetadataWriter(gzip);
    const record = Buffer.alloc(3000, 0x41);
    const refs: number[] = [];
    for (let i = 0; i < 5; i++) {
      refs.push(writer.ref());
      writer.append(record);
    }
    writer.flush();
    const table = Buffer.concat(writer.take());
    const parts = blocks(table);
    assert.deepEqual(
      parts.map((p) => p.data.length),
      [METADATA_SIZE, 15000 - METADATA_SIZE],
    );
    assert.deepEqual(
      refs.map((r) => r % 65536),
      [0, 3000, 6000, 9000 - METADATA_SIZE, 12000 - METADATA_SIZE],
    );
    const secondBlock = 2 + table.readUInt16LE(0);
    assert.deepEqual(
      refs.map((r) => Math.floor(r / 65536)),
      [0, 0, 0, secondBlock, secondBlock],
    );
    assert.equal(writer.size, table.length);
  });

  it("stores a block raw (bit 15) when compression does not make it smaller, or with none", () => {
    for (const compressor of [gzip, none]) {
      const writer = new MetadataWriter(compressor);
      const data = compressor === gzip ? randomBytes(100) : Buffer.alloc(100);
      writer.append(data);
      writer.flush();
      const [block] = blocks(Buffer.concat(writer.take()));
      assert.equal(block!.raw, true);
      assert.ok(block!.data.equals(data));
    }
  });

  it("a lookup table is its blocks followed by their absolute positions", () => {
    const records = Buffer.alloc(3 * METADATA_SIZE + 16, 7);
    const { bytes, listStart } = encodeLookupTable(records, gzip, 1000);
    const list = bytes.subarray(listStart - 1000);
    assert.equal(list.length, 4 * 8);
    const positions = [0, 1, 2, 3].map((i) => Number(list.readBigUInt64LE(i * 8)));
    assert.equal(positions[0], 1000);
    const parts = blocks(bytes.subarray(0, listStart - 1000));
    assert.deepEqual(
      parts.map((p) => p.data.length),
      [METADATA_SIZE, METADATA_SIZE, METADATA_SIZE, 16],
    );
    for (let i = 1; i < 4; i++) {
      assert.equal(positions[i]! - positions[i - 1]!, 2 + bytes.readUInt16LE(positions[i - 1]! - 1000));
    }
  });
});
