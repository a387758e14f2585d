import assert from "node:assert/strict";
import { test } from "node:test";
import { mapLimit } from "./pool.js";

test("mapLimit keeps order and never exceeds the limit", async () => {
  let active = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, n * 3));
    active--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
});

test("mapLimit rejects with the first error and starts no new task", async () => {
  const started: number[] = [];
  await assert.rejects(
    mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error("boom");
    }),
    /boom/,
  );
  assert.deepEqual(started, [1, 2]);
});

test("mapLimit on an empty list returns an empty list", async () => {
  assert.deepEqual(await mapLimit([], 3, async () => 1), []);
});
