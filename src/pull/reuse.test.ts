import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { VERSION } from "../version.js";
import { pullKey, type PullKeyInput } from "./reuse.js";

describe("pullKey", () => {
  const base: PullKeyInput = {
    topDigest: "sha256:" + "1".repeat(64),
    platform: { os: "linux", architecture: "amd64" },
    reference: "registry.example/org/app:1",
    compression: "gzip",
    preferCmd: false,
  };

  it("is stable for the same inputs", () => {
    assert.equal(pullKey(base), pullKey({ ...base }));
    assert.match(pullKey(base), /^[0-9a-f]{64}$/);
  });

  it("changes with anything the SIF's bytes depend on", () => {
    const variants: Partial<PullKeyInput>[] = [
      { topDigest: "sha256:" + "2".repeat(64) },
      { platform: { os: "linux", architecture: "arm64" } },
      { platform: { os: "linux", architecture: "amd64", variant: "v2" } },
      { reference: "registry.example/org/app:2" },
      { compression: "zstd" },
      { preferCmd: true },
      { builder: "native" },
    ];
    const keys = new Set([pullKey(base), ...variants.map((v) => pullKey({ ...base, ...v }))]);
    assert.equal(keys.size, variants.length + 1);
  });

  it("keeps the keys of external-tool builds as they were: no builder field, no change", () => {
    // The same text as before the builder existed, so earlier tar2sqfs builds are still reused.
    const old = createHash("sha256")
      .update(
        ["sregistry-pull", VERSION, base.topDigest, "linux/amd64/", base.reference, "gzip", "false"].join(
          "\n",
        ),
      )
      .digest("hex");
    assert.equal(pullKey(base), old);
  });
});
