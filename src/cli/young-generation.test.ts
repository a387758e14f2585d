import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const MODULE = fileURLToPath(new URL("./young-generation.ts", import.meta.url));
const TSX = fileURLToPath(import.meta.resolve("tsx"));

/**
 * The young generation's size before and after allocating objects of which some survive (what
 * makes V8 grow it), in a fresh process with or without keepYoungGenerationSmall first. The cap is
 * given explicitly (16 MiB, V8's 64-bit default) since V8 lowers it on machines with little memory.
 */
function youngGenerationGrowth(keepSmall: boolean): { before: number; after: number } {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { keepYoungGenerationSmall } from ${JSON.stringify(MODULE)};
    const young = () => getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
    if (${keepSmall}) keepYoungGenerationSmall();
    const before = young();
    const kept = [];
    for (let round = 0; round < 60; round++) {
      const batch = [];
      for (let i = 0; i < 100000; i++) batch.push({ i, text: "x" + i });
      if (round % 3 === 0) kept.push(batch.slice(0, 1000));
    }
    console.log(JSON.stringify({ before, after: young(), kept: kept.length }));
  `;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const run = spawnSync(
    process.execPath,
    ["--max-semi-space-size=16", "--import", TSX, "--input-type=module", "-e", script],
    { encoding: "utf8", env },
  );
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { before: number; after: number };
}

describe("keepYoungGenerationSmall", () => {
  it("stops the young generation from growing, which it does by default under the same load", () => {
    const grown = youngGenerationGrowth(false);
    const kept = youngGenerationGrowth(true);
    assert.ok(grown.after >= 2 * grown.before, `by default it grows: ${JSON.stringify(grown)}`);
    assert.equal(kept.after, kept.before, "kept at the size it had");
  });
});
