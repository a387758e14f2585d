import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { ContentIndex } from "./dedup.js";
import { parseCompression } from "./compressor.js";
import { encodeDevice } from "./format.js";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

describe("ContentIndex", () => {
  it("finds the first file with the same digest, across table growth", () => {
    const index = new ContentIndex();
    for (let i = 0; i < 5000; i++) assert.equal(index.findOrAdd(digest(`file ${i}`), i), -1);
    for (let i = 0; i < 5000; i += 7) assert.equal(index.findOrAdd(digest(`file ${i}`), 10_000 + i), i);
    assert.equal(index.size, 5000);
  });
});

describe("compression and device numbers", () => {
  it("parses gzip levels and none, and points zstd/lz4 at the external builder", () => {
    assert.deepEqual(parseCompression("gzip"), { name: "gzip", level: 6 });
    assert.deepEqual(parseCompression("gzip:9"), { name: "gzip", level: 9 });
    assert.deepEqual(parseCompression("none"), { name: "none", level: 0 });
    assert.throws(() => parseCompression("gzip:10"), /1 to 9/);
    assert.throws(() => parseCompression("lz4"), /--builder tar2sqfs/);
    assert.throws(() => parseCompression("brotli"), /unknown compression/);
  });

  it("encodes device numbers as Linux new_encode_dev", () => {
    assert.equal(encodeDevice(1, 3), 0x103);
    assert.equal(encodeDevice(259, 70_000), 0x11110370);
  });
});
