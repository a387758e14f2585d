import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { describe, it } from "node:test";
import { looksIncompressible } from "./incompressible.js";

const BLOCK = 128 * 1024;

describe("looksIncompressible", () => {
  it("finds random blocks, which deflate cannot shrink", () => {
    const random = randomBytes(BLOCK);
    assert.equal(looksIncompressible(random), true);
    assert.ok(deflateSync(random, { level: 9 }).length >= BLOCK, "deflate agrees");
  });

  it("leaves every compressible block to deflate", () => {
    const text = Buffer.from("the quick brown fox jumps over the lazy dog ".repeat(3000)).subarray(0, BLOCK);
    assert.equal(looksIncompressible(text), false);
    assert.equal(looksIncompressible(Buffer.alloc(BLOCK)), false);
    // Half random, half text: deflate saves about a third.
    const mixed = Buffer.concat([randomBytes(BLOCK / 2), text.subarray(0, BLOCK / 2)]);
    assert.equal(looksIncompressible(mixed), false);
    // Random bytes drawn from 200 values: 7.64 bits per byte, deflate saves ~4 %.
    const narrow = Buffer.from(randomBytes(BLOCK).map((b) => b % 200));
    assert.equal(looksIncompressible(narrow), false);
    assert.ok(deflateSync(narrow, { level: 6 }).length < BLOCK);
  });

  it("does not judge short blocks (tails, small fragments)", () => {
    assert.equal(looksIncompressible(randomBytes(32 * 1024)), false);
  });
});
