import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { SregistryError } from "../../util/errors.js";
import { DEFAULT_INFLATE_LIMIT, describeLayer, inflateBound, LayerCheck } from "./layer-check.js";

const DIGEST = "sha256:" + "d".repeat(64);
const sha = (data: Buffer): string => "sha256:" + createHash("sha256").update(data).digest("hex");

function throwsCode(fn: () => void, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SregistryError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

describe("inflateBound", () => {
  it("is the larger of the floor and ratio × compressed size; the floor alone when the size is unknown", () => {
    const limit = { ratio: 100, floorBytes: 1000 };
    assert.equal(inflateBound(5, limit), 1000);
    assert.equal(inflateBound(50, limit), 5000);
    assert.equal(inflateBound(undefined, limit), 1000);
    assert.equal(inflateBound(0, limit), 1000);
    assert.equal(inflateBound(20 << 20, DEFAULT_INFLATE_LIMIT), 8 * 1024 ** 3);
    assert.equal(inflateBound(200 << 20, DEFAULT_INFLATE_LIMIT), 100 * (200 << 20));
  });
});

describe("LayerCheck", () => {
  const position = { index: 1, count: 3 };

  it("accepts content that hashes to the diff_id, fed in any chunking", () => {
    const data = Buffer.from("a tar, in reality");
    const check = new LayerCheck(
      { digest: DIGEST, diffId: sha(data) },
      position,
      DEFAULT_INFLATE_LIMIT,
      true,
    );
    assert.equal(check.hashing, true);
    check.update(data.subarray(0, 3));
    check.update(data.subarray(3));
    check.verify();
    assert.equal(check.bytes, data.length);
  });

  it("refuses other content in one line naming the layer's place, its digest and both digests", () => {
    const expected = sha(Buffer.from("what the config says"));
    const got = Buffer.from("what the blob holds");
    const check = new LayerCheck({ digest: DIGEST, diffId: expected }, position, DEFAULT_INFLATE_LIMIT, true);
    check.update(got);
    throwsCode(
      () => check.verify(),
      "DIGEST_MISMATCH",
      new RegExp(`^layer 2 of 3 \\(${DIGEST}\\) .*${sha(got)}.*rootfs\\.diff_ids\\[1\\] is ${expected}`),
    );
  });

  it("does not hash without a diff_id, nor when asked not to (second pass)", () => {
    const unverified = new LayerCheck({ digest: DIGEST }, position, DEFAULT_INFLATE_LIMIT, true);
    unverified.update(Buffer.from("x"));
    unverified.verify();
    assert.equal(unverified.hashing, false);
    const second = new LayerCheck({ digest: DIGEST, diffId: DIGEST }, position, DEFAULT_INFLATE_LIMIT, false);
    second.update(Buffer.from("x"));
    second.verify();
  });

  it("stops at the ratio bound and names the settings to raise", () => {
    const check = new LayerCheck(
      { digest: DIGEST, compressedBytes: 1000 },
      position,
      { ratio: 10, floorBytes: 5000 },
      true,
    );
    check.update(Buffer.alloc(10_000));
    throwsCode(
      () => check.update(Buffer.alloc(1)),
      "LIMIT",
      /^layer 2 of 3 \(sha256:d+\) inflates to more than 10 kB, 10 × its compressed 1\.0 kB \(SREGISTRY_INFLATE_RATIO\): refused as a decompression bomb; .*raise SREGISTRY_INFLATE_RATIO \(now 10\) or SREGISTRY_INFLATE_FLOOR \(now 5000 bytes\)/,
    );
  });

  it("stops at the floor when it is larger, and on announced sizes before inflating them", () => {
    const check = new LayerCheck(
      { digest: DIGEST, compressedBytes: 10 },
      position,
      { ratio: 10, floorBytes: 5000 },
      false,
    );
    check.checkDeclared(5000);
    throwsCode(
      () => check.checkDeclared(5001),
      "LIMIT",
      /more than 5\.0 kB, the SREGISTRY_INFLATE_FLOOR of 5\.0 kB/,
    );
    check.update(Buffer.alloc(5000));
    throwsCode(() => check.update(Buffer.alloc(1)), "LIMIT", /decompression bomb/);
  });

  it("describes a layer by its place and digest", () => {
    assert.equal(describeLayer({ digest: DIGEST }, { index: 0, count: 1 }), `layer 1 of 1 (${DIGEST})`);
  });
});
