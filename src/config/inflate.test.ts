import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inflateLimitSetting, parseByteSize, parseInflateRatio } from "./inflate.js";
import { loadSettings } from "./settings.js";

describe("inflate limit settings", () => {
  it("defaults to max(8 GiB, 100 × compressed size)", () => {
    assert.deepEqual(inflateLimitSetting({}), { ratio: 100, floorBytes: 8 * 1024 ** 3 });
    assert.deepEqual(inflateLimitSetting({ SREGISTRY_INFLATE_RATIO: " ", SREGISTRY_INFLATE_FLOOR: "" }), {
      ratio: 100,
      floorBytes: 8 * 1024 ** 3,
    });
  });

  it("reads SREGISTRY_INFLATE_RATIO and SREGISTRY_INFLATE_FLOOR through loadSettings", () => {
    const env = { SREGISTRY_INFLATE_RATIO: "1000", SREGISTRY_INFLATE_FLOOR: "16G" };
    const settings = loadSettings(env, { home: "/tmp/h", secrets: {} });
    assert.deepEqual(settings.inflateLimit, { ratio: 1000, floorBytes: 16 * 1024 ** 3 });
  });

  it("accepts sizes with binary suffixes and plain bytes", () => {
    assert.equal(parseByteSize("X", "512M"), 512 * 1024 ** 2);
    assert.equal(parseByteSize("X", "8GiB"), 8 * 1024 ** 3);
    assert.equal(parseByteSize("X", "2t"), 2 * 1024 ** 4);
    assert.equal(parseByteSize("X", "64k"), 65536);
    assert.equal(parseByteSize("X", "123456"), 123456);
    assert.equal(parseByteSize("X", "0"), 0);
  });

  it("refuses malformed values with one line naming the setting", () => {
    for (const bad of ["-1", "1.5G", "8 P", "lots", "99999999999999T"]) {
      assert.throws(() => parseByteSize("SREGISTRY_INFLATE_FLOOR", bad), {
        code: "BAD_SETTING",
        message: /^SREGISTRY_INFLATE_FLOOR must be a size/,
      });
    }
    for (const bad of ["0", "-5", "2.5", "x", "10000000"]) {
      assert.throws(() => parseInflateRatio(bad), {
        code: "BAD_SETTING",
        message: /^SREGISTRY_INFLATE_RATIO/,
      });
    }
    assert.equal(parseInflateRatio("1"), 1);
    assert.equal(parseInflateRatio("1000000"), 1_000_000);
  });
});
