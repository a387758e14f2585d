import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKOFF, backoffDelay } from "./backoff.js";

test("full jitter: a pause anywhere from 0 up to the doubling ceiling", () => {
  assert.deepEqual(
    [1, 2, 3].map((n) => backoffDelay(n, () => 0)),
    [0, 0, 0],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => backoffDelay(n, () => 0.5)),
    [250, 500, 1000],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => backoffDelay(n, () => 0.9999)),
    [499, 999, 1999],
  );
});

test("the ceiling stops at maxDelayMs however many attempts", () => {
  assert.equal(
    backoffDelay(6, () => 0.5),
    5000,
  );
  assert.equal(
    backoffDelay(40, () => 0.5),
    BACKOFF.maxDelayMs / 2,
  );
  assert.equal(
    backoffDelay(3, () => 0.5, { baseDelayMs: 1, maxDelayMs: 3 }),
    1,
  );
});

test("the policy's numbers", () => {
  assert.deepEqual({ ...BACKOFF }, { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 });
  assert.ok(Object.isFrozen(BACKOFF));
});
