import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseSeconds, timeoutSettings } from "./timeouts.js";

describe("timeout settings", () => {
  it("default to 4 s for a mirror and 30 s for a stall", () => {
    assert.deepEqual(timeoutSettings({}), { mirrorTimeoutMs: 4000, stallTimeoutMs: 30_000 });
    assert.deepEqual(timeoutSettings({ SREGISTRY_MIRROR_TIMEOUT: " ", SREGISTRY_STALL_TIMEOUT: "" }), {
      mirrorTimeoutMs: 4000,
      stallTimeoutMs: 30_000,
    });
  });

  it("take seconds, decimals allowed", () => {
    assert.deepEqual(timeoutSettings({ SREGISTRY_MIRROR_TIMEOUT: "0.2", SREGISTRY_STALL_TIMEOUT: "90" }), {
      mirrorTimeoutMs: 200,
      stallTimeoutMs: 90_000,
    });
    assert.equal(parseSeconds("X", ".5", 1), 500);
  });

  for (const bad of ["0", "-1", "abc", "1e3", "30s", "0.0001", "100000", "Infinity", "1,5"]) {
    it(`refuse ${JSON.stringify(bad)} with one line naming the variable`, () => {
      assert.throws(
        () => timeoutSettings({ SREGISTRY_STALL_TIMEOUT: bad }),
        (err: Error & { code?: string }) =>
          err.code === "BAD_SETTING" &&
          !err.message.includes("\n") &&
          err.message.startsWith("SREGISTRY_STALL_TIMEOUT must be a number of seconds above 0"),
      );
    });
  }

  it("name the mirror variable when it is the bad one", () => {
    assert.throws(
      () => timeoutSettings({ SREGISTRY_MIRROR_TIMEOUT: "soon" }),
      /SREGISTRY_MIRROR_TIMEOUT must/,
    );
  });
});
