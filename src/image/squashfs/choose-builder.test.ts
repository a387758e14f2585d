import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SregistryError } from "../../util/errors.js";
import { DEFAULT_BUILDER, chooseBuilder, compressesInProcess, parseBuilder } from "./choose-builder.js";
import type { CompressionSpec } from "./compression.js";
import type { SquashfsTools } from "./tools.js";

const NONE: SquashfsTools = {};
const TAR2SQFS: SquashfsTools = { tar2sqfs: { command: "tar2sqfs", version: "1.2.0" } };
const SQFSTAR: SquashfsTools = { sqfstar: { command: "sqfstar", version: "4.5.1" } };

/** A tool probe that records whether it was called. */
function probe(tools: SquashfsTools): { calls: number; detect: () => SquashfsTools } {
  const p = { calls: 0, detect: () => (p.calls++, tools) };
  return p;
}

describe("squashfs builder choice", () => {
  it("parses --builder / SREGISTRY_BUILDER; empty means the default; anything else is one clear line", () => {
    assert.equal(parseBuilder("native"), "native");
    assert.equal(parseBuilder(" TAR2SQFS "), "tar2sqfs");
    assert.equal(parseBuilder("sqfstar"), "sqfstar");
    assert.equal(parseBuilder(undefined), undefined);
    assert.equal(parseBuilder(""), undefined);
    assert.throws(
      () => parseBuilder("mksquashfs"),
      (err: unknown) => err instanceof SregistryError && /native, tar2sqfs, sqfstar/.test(err.message),
    );
  });

  it("gzip with native needs no tool and does not probe for one (a re-pull stays cheap)", () => {
    const p = probe(NONE);
    assert.equal(chooseBuilder("native", { algorithm: "gzip", level: 9 }, p.detect), "native");
    assert.equal(p.calls, 0);
  });

  it("an external builder asked for is used as asked", () => {
    assert.equal(
      chooseBuilder("tar2sqfs", { algorithm: "gzip" }, () => NONE),
      "tar2sqfs",
    );
    assert.equal(
      chooseBuilder("sqfstar", { algorithm: "zstd" }, () => NONE),
      "sqfstar",
    );
  });

  it("zstd and lz4 with native are compressed in process, without probing for a tool", () => {
    const p = probe(NONE);
    assert.equal(chooseBuilder("native", { algorithm: "zstd" }, p.detect), "native");
    assert.equal(chooseBuilder("native", { algorithm: "zstd", level: 19 }, p.detect), "native");
    assert.equal(chooseBuilder("native", { algorithm: "lz4" }, p.detect), "native");
    assert.equal(p.calls, 0);
    assert.equal(compressesInProcess({ algorithm: "zstd" }), true);
    assert.equal(compressesInProcess({ algorithm: "lz4" }), true);
    assert.equal(compressesInProcess({ algorithm: "lz4", hc: true }), false);
  });

  it("lz4:hc, or a codec whose add-on cannot load here, goes to tar2sqfs when it is installed", () => {
    assert.equal(
      chooseBuilder("native", { algorithm: "lz4", hc: true }, () => TAR2SQFS),
      "tar2sqfs",
    );
    const noAddon = (): boolean => false;
    assert.equal(
      chooseBuilder("native", { algorithm: "zstd" }, () => TAR2SQFS, noAddon),
      "tar2sqfs",
    );
    assert.equal(
      chooseBuilder(undefined, { algorithm: "lz4" }, () => TAR2SQFS, noAddon),
      "tar2sqfs",
    );
  });

  it("neither in process nor tar2sqfs is one line saying what to install", () => {
    const noAddon = (): boolean => false;
    const cases: [CompressionSpec, RegExp][] = [
      [{ algorithm: "zstd" }, /^zstd compression cannot be done in process here and needs tar2sqfs/],
      [
        { algorithm: "lz4", hc: true },
        /^lz4:hc compression cannot be done in process here and needs tar2sqfs/,
      ],
    ];
    for (const tools of [NONE, SQFSTAR]) {
      for (const [compression, message] of cases) {
        assert.throws(
          () => chooseBuilder("native", compression, () => tools, noAddon),
          (err: unknown) =>
            err instanceof SregistryError &&
            err.code === "TOOL_MISSING" &&
            message.test(err.message) &&
            !err.message.includes("\n"),
        );
      }
    }
  });

  it("the default builds gzip and zstd natively even when no squashfs tool is installed", () => {
    assert.equal(DEFAULT_BUILDER, "native");
    assert.equal(
      chooseBuilder(undefined, { algorithm: "gzip" }, () => NONE),
      "native",
    );
    assert.equal(
      chooseBuilder(undefined, { algorithm: "gzip" }, () => TAR2SQFS),
      "native",
    );
    assert.equal(
      chooseBuilder(undefined, { algorithm: "zstd" }, () => NONE),
      "native",
    );
  });
});
