import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const MODULE = fileURLToPath(new URL("./young-generation.ts", import.meta.url));
const TSX = fileURLToPath(import.meta.resolve("tsx"));

/**
 * The young generation's size after allocating objects of which some survive (what makes V8 grow
 * it), in a fresh process, with or without keepYoungGenerationSmall first.
 */
function youngGenerationAfterWork(keepSmall: boolean): number {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { keepYoungGenerationSmall } from ${JSON.stringify(MODULE)};
    if (${keepSmall}) keepYoungGenerationSmall();
    const kept = [];
    for (let round = 0; round < 60; round++) {
      const batch = [];
      for (let i = 0; i < 100000; i++) batch.push({ i, text: "x" + i });
      if (round % 3 === 0) kept.push(batch.slice(0, 1000));
    }
    const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
    console.log(young.space_size, kept.length);
  `;
  const run = spawnSync(process.execPath, ["--import", TSX, "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  return Number(run.stdout.split(" ")[0]);
}

describe("keepYoungGenerationSmall", () => {
  it("stops the young generation from growing, which it does by default under the same load", () => {
    const MiB = 1024 * 1024;
    const grown = youngGenerationAfterWork(false);
    const kept = youngGenerationAfterWork(true);
    // tsx's own start already grew it to 4 MiB; by default it goes on to 32 MiB (2 × 16).
    assert.ok(grown >= 16 * MiB, `by default it grows: ${grown} bytes`);
    assert.ok(kept <= 4 * MiB, `it stays where it was: ${kept} bytes`);
  });
});
