// Expected strings are what CPython 3's json module prints for the same input (derived by hand from
// its encoder rules and cross-checked once against a real interpreter).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  PyFloat,
  PyInt,
  compareCodePoints,
  parsePythonJson,
  pythonFloatRepr,
  pythonJsonDumps,
} from "./python-json.js";

const pretty = (value: unknown): string => pythonJsonDumps(value, { indent: 4, sortKeys: true });

describe("pythonJsonDumps (indent=4, sort_keys=True)", () => {
  it("prints empty containers on one line", () => {
    assert.equal(pretty({}), "{}");
    assert.equal(pretty([]), "[]");
  });

  it("nests with 4-space indent, sorted keys, no trailing spaces", () => {
    const value = { b: { z: [], a: {} }, a: [1, [2, {}], "x"] };
    assert.equal(
      pretty(value),
      '{\n    "a": [\n        1,\n        [\n            2,\n            {}\n        ],\n        "x"\n    ],\n' +
        '    "b": {\n        "a": {},\n        "z": []\n    }\n}',
    );
  });

  it("prints constants and big integers", () => {
    const value = { n: null, t: true, f: false, i: -12, big: new PyInt("123456789012345678901234567890") };
    assert.equal(
      pretty(value),
      '{\n    "big": 123456789012345678901234567890,\n    "f": false,\n    "i": -12,\n    "n": null,\n    "t": true\n}',
    );
  });

  it("prints floats like Python's repr", () => {
    const text =
      "[0.1, 1.5, -0.0, 0.0, 1e16, 1e15, 1e-05, 0.0001, 123.456, 1.7976931348623157e308, 5e-324, " +
      "2.5e-7, 1e22, 100.0, NaN, Infinity, -Infinity]";
    const expected = [
      "0.1",
      "1.5",
      "-0.0",
      "0.0",
      "1e+16",
      "1000000000000000.0",
      "1e-05",
      "0.0001",
      "123.456",
      "1.7976931348623157e+308",
      "5e-324",
      "2.5e-07",
      "1e+22",
      "100.0",
      "NaN",
      "Infinity",
      "-Infinity",
    ];
    assert.equal(pretty(parsePythonJson(text)), "[\n" + expected.map((e) => "    " + e).join(",\n") + "\n]");
  });

  it("escapes non-ASCII and control characters as lowercase \\uXXXX", () => {
    const value = { é: 'café ☃ 😀 \x7f \x01 "q" \\ / \t\n\r\b\f' };
    assert.equal(
      pretty(value),
      '{\n    "\\u00e9": "caf\\u00e9 \\u2603 \\ud83d\\ude00 \\u007f \\u0001 \\"q\\" \\\\ / \\t\\n\\r\\b\\f"\n}',
    );
  });

  it("sorts keys by code point, not UTF-16 unit", () => {
    const value = { B: 1, a: 2, _: 3, "\uffff": 4, "😀": 5, Z: 6 };
    assert.equal(
      pretty(value),
      '{\n    "B": 1,\n    "Z": 6,\n    "_": 3,\n    "a": 2,\n    "\\uffff": 4,\n    "\\ud83d\\ude00": 5\n}',
    );
    assert.ok(compareCodePoints("\uffff", "😀") < 0);
  });

  it("without indent uses Python's default separators and keeps key order", () => {
    assert.equal(
      pythonJsonDumps({ b: new PyFloat(1), a: [1, "é"], c: {} }),
      '{"b": 1.0, "a": [1, "\\u00e9"], "c": {}}',
    );
  });

  it("skips undefined members like JSON.stringify", () => {
    assert.equal(pythonJsonDumps({ a: undefined, b: 2 }), '{"b": 2}');
  });
});

describe("parsePythonJson", () => {
  it("round-trips the number kinds Python distinguishes", () => {
    const text = '{"x": 1.0, "y": 1e2, "z": -0.0, "w": 12345678901234567890, "v": NaN, "u": -0}';
    assert.equal(
      pythonJsonDumps(parsePythonJson(text)),
      '{"x": 1.0, "y": 100.0, "z": -0.0, "w": 12345678901234567890, "v": NaN, "u": 0}',
    );
  });

  it("returns plain JS values for ordinary JSON", () => {
    assert.deepEqual(parsePythonJson(' {"a": [1, 2.5, "\\u00e9\\n", true, null], "b": {}} '), {
      a: [1, 2.5, "é\n", true, null],
      b: {},
    });
  });

  it("keeps a __proto__ key as data", () => {
    const parsed = parsePythonJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  for (const bad of ["", "{", "[1,]", '{"a" 1}', "01", '"\x01"', "{} x", "'a'", '"\\x"']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parsePythonJson(bad), SyntaxError);
    });
  }
});

describe("pythonFloatRepr", () => {
  it("switches to exponent notation at Python's thresholds", () => {
    assert.equal(pythonFloatRepr(9999999999999998), "9999999999999998.0");
    assert.equal(pythonFloatRepr(0.00012), "0.00012");
    assert.equal(pythonFloatRepr(0.000012), "1.2e-05");
    assert.equal(pythonFloatRepr(-1.5e300), "-1.5e+300");
  });
});
