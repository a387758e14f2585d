import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { siblingTempPath } from "./temp-name.js";

describe("siblingTempPath", () => {
  it("is a hidden, random name in the same directory", () => {
    const a = siblingTempPath("/data/images/a.sif");
    assert.match(a, /^\/data\/images\/\.a\.sif\.tmp-[0-9a-f]{12}$/);
    assert.notEqual(siblingTempPath("/data/images/a.sif"), a);
  });
});
