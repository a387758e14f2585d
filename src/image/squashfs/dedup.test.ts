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
  it("parses gzip and zstd levels, lz4 and none, and points lz4:hc and xz at the external builder", () => {
    assert.deepEqual(parseCompression("gzip"), { name: "gzip", level: 6 });
    assert.deepEqual(parseCompression("gzip:9"), { name: "gzip", level: 9 });
    assert.deepEqual(parseCompression("zstd"), { name: "zstd", level: 3 });
    assert.deepEqual(parseCompression("zstd:22"), { name: "zstd", level: 22 });
    assert.deepEqual(parseCompression("lz4"), { name: "lz4", level: 0 });
    assert.deepEqual(parseCompression("none"), { name: "none", level: 0 });
    assert.throws(() => parseCompression("gzip:10"), /1 to 9/);
    assert.throws(() => parseCompression("zstd:0"), /1 to 22/);
    assert.throws(() => parseCompression("lz4:hc"), /--builder tar2sqfs for lz4:hc/);
    assert.throws(() => parseCompression("xz"), /--builder tar2sqfs for xz/);
    assert.throws(() => parseCompression("brotli"), /unknown compression/);
  });

  it("encodes device numbers as Linux new_encode_dev", () => {
    assert.equal(encodeDevice(1, 3), 0x103);
    assert.equal(encodeDevice(259, 70_000), 0x11110370);
  });
});
