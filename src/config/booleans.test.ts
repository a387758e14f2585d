import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBoolean, parsePresenceFlag } from "./booleans.js";

test("parseBoolean: the original's true words in any case are true", () => {
  for (const word of ["yes", "YES", "True", "t", "T", "1", "y", " y "])
    assert.equal(parseBoolean(word), true, word);
});

test("parseBoolean: false words and unknown values are false", () => {
  for (const word of ["false", "no", "f", "0", "n", "off", "maybe", "2"])
    assert.equal(parseBoolean(word), false, word);
});

test("parseBoolean: unset and empty are undefined", () => {
  assert.equal(parseBoolean(undefined), undefined);
  assert.equal(parseBoolean(""), undefined);
  assert.equal(parseBoolean("   "), undefined);
});

test("parsePresenceFlag: explicit false words are false, anything else set is true", () => {
  for (const word of ["false", "FALSE", "no", "f", "0", "n", "off"])
    assert.equal(parsePresenceFlag(word), false, word);
  for (const word of ["true", "yes", "1", "please", "anything"])
    assert.equal(parsePresenceFlag(word), true, word);
  assert.equal(parsePresenceFlag(undefined), undefined);
  assert.equal(parsePresenceFlag(""), undefined);
});
