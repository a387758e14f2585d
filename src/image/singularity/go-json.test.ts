import { test } from "node:test";
import assert from "node:assert/strict";
import { goJson } from "./go-json.js";

test("maps sorted by bytes, objects in insertion order, empty containers inline", () => {
  const value = {
    b: new Map([
      ["z", "1"],
      ["a", "2"],
      ["\u{1F600}", "3"],
      ["\uFFFD", "4"],
    ]),
    a: [],
    c: {},
    d: [1, true, null],
  };
  assert.equal(
    goJson(value),
    '{"b":{"a":"2","z":"1","\uFFFD":"4","\u{1F600}":"3"},"a":[],"c":{},"d":[1,true,null]}',
  );
  assert.equal(goJson({ k: ["x"], e: new Map() }, "\t"), '{\n\t"k": [\n\t\t"x"\n\t],\n\t"e": {}\n}');
});

test("HTML-sensitive characters use \\u escapes", () => {
  assert.equal(goJson("<a&b>\u2028"), '"\\u003ca\\u0026b\\u003e\\u2028"');
});
