import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SregistryError } from "../../util/errors.js";
import { DEFAULT_ROOT, sqfstarArgs, tar2sqfsArgs } from "./args.js";
import { compressionKey, parseCompression } from "./compression.js";

describe("--compression values", () => {
  it("parses algorithms with optional levels", () => {
    assert.deepEqual(parseCompression("gzip"), { algorithm: "gzip" });
    assert.deepEqual(parseCompression("gzip:9"), { algorithm: "gzip", level: 9 });
    assert.deepEqual(parseCompression("ZSTD:19"), { algorithm: "zstd", level: 19 });
    assert.deepEqual(parseCompression("lz4:hc"), { algorithm: "lz4", hc: true });
  });

  it("keys builds by the level actually used: zstd defaults to 3, gzip to 6", () => {
    assert.equal(compressionKey(parseCompression("zstd")), "zstd:3");
    assert.equal(compressionKey(parseCompression("zstd:3")), "zstd:3");
    assert.equal(compressionKey(parseCompression("gzip")), "gzip:6");
    assert.equal(compressionKey(parseCompression("lz4")), "lz4");
    assert.equal(compressionKey(parseCompression("lz4:hc")), "lz4:hc");
    assert.notEqual(compressionKey(parseCompression("zstd:19")), compressionKey(parseCompression("zstd")));
  });

  for (const [text, message] of [
    ["zstd:23", /the zstd level is 1 to 22 \(e\.g\. zstd:3\)/],
    ["zstd:0", /the zstd level is 1 to 22/],
    ["gzip:10", /the gzip level is 1 to 9/],
    ["gzip:6.5", /the gzip level is 1 to 9/],
    ["gzip:", /the gzip level is 1 to 9/],
    ["lz4:3", /lz4 takes no level/],
    ["xz", /use one of gzip, zstd, lz4/],
    ["zstd:3:1", /use one of/],
    ["", /use one of/],
  ] as const) {
    it(`refuses ${JSON.stringify(text)} with one clear line`, () => {
      assert.throws(
        () => parseCompression(text),
        (err: unknown) =>
          err instanceof SregistryError &&
          err.code === "BAD_COMPRESSION" &&
          message.test(err.message) &&
          err.message.startsWith(`--compression ${JSON.stringify(text)}: `),
      );
    });
  }

  it("passes levels and lz4 hc to the tools", () => {
    const base = { processors: 1, blockSize: 131072, mkfsTime: 0, root: DEFAULT_ROOT, offset: 0 };
    const zstd = tar2sqfsArgs("/o", { ...base, compression: "zstd", level: 19 });
    assert.deepEqual(zstd.slice(zstd.indexOf("--comp-extra"), zstd.indexOf("--comp-extra") + 2), [
      "--comp-extra",
      "level=19",
    ]);
    const hc = tar2sqfsArgs("/o", { ...base, compression: "lz4", level: undefined, hc: true });
    assert.ok(hc.includes("hc"));
    assert.ok(
      sqfstarArgs("/o", { ...base, compression: "lz4", level: undefined, hc: true }, true).includes("-Xhc"),
    );
    assert.ok(
      !sqfstarArgs("/o", { ...base, compression: "lz4", level: undefined, hc: true }).includes("-Xhc"),
    );
  });
});
