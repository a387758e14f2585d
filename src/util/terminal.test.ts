import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonForTerminal, sanitizeForTerminal, TerminalText } from "./terminal.js";

const ESC = "\x1b";
const BEL = "\x07";
const CSI_C1 = "\u009b";

/** Every character a terminal may act on: C0, DEL, C1 and the bidi embedding/override/isolate controls. */
// eslint-disable-next-line no-control-regex -- the test looks for control characters
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("sanitizeForTerminal", () => {
  it("escapes a screen clear (ESC [2J) so that it is shown, not obeyed", () => {
    assert.equal(sanitizeForTerminal(`bad${ESC}[2Jname`), "bad\\u001b[2Jname");
  });

  it("escapes an OSC window-title sequence ended by BEL", () => {
    assert.equal(sanitizeForTerminal(`${ESC}]0;pwned${BEL}tag`), "\\u001b]0;pwned\\u0007tag");
  });

  it("escapes the one-character C1 CSI (U+009B) and the rest of C1", () => {
    assert.equal(sanitizeForTerminal(`${CSI_C1}31mred`), "\\u009b31mred");
    assert.equal(sanitizeForTerminal("\u0080\u009f"), "\\u0080\\u009f");
  });

  it("escapes DEL and NUL", () => {
    assert.equal(sanitizeForTerminal("a\x7fb\x00c"), "a\\u007fb\\u0000c");
  });

  it("escapes bidi overrides and isolates (Trojan Source) but keeps the LRM/RLM marks", () => {
    assert.equal(sanitizeForTerminal("abc\u202edef\u2066x\u2069"), "abc\\u202edef\\u2066x\\u2069");
    assert.equal(sanitizeForTerminal("\u200f\u05e9\u05dc\u05d5\u05dd"), "\u200f\u05e9\u05dc\u05d5\u05dd");
  });

  it("keeps one line by default: newline, CR, tab and backspace shown as JSON escapes", () => {
    assert.equal(sanitizeForTerminal("a\nb\r\nc\td\be"), "a\\nb\\r\\nc\\td\\be");
  });

  it("keeps newlines and tabs with multiline, folds CRLF and escapes a lone CR", () => {
    assert.equal(
      sanitizeForTerminal(`row\t1\r\nrow 2\rover${ESC}[1A`, { multiline: true }),
      "row\t1\nrow 2\\rover\\u001b[1A",
    );
  });

  it("leaves printable ASCII and Unicode text untouched", () => {
    const text = "nvcr.io/nvidia/tensorflow:17.11 — déjà vu 日本語 🙂";
    assert.equal(sanitizeForTerminal(text), text);
  });

  it("is idempotent and never leaves a control character", () => {
    let every = "";
    for (let code = 0; code < 0x2070; code++) every += String.fromCharCode(code);
    const once = sanitizeForTerminal(every);
    assert.doesNotMatch(once, CONTROLS);
    assert.equal(sanitizeForTerminal(once), once);
    assert.doesNotMatch(sanitizeForTerminal(every, { multiline: true }).replace(/[\n\t]/g, ""), CONTROLS);
  });
});

describe("jsonForTerminal", () => {
  it("escapes what JSON.stringify leaves raw (DEL, C1, bidi) and keeps the same value", () => {
    const value = { label: `x${CSI_C1}2J\x7f\u202e${ESC}]0;t${BEL}` };
    assert.match(JSON.stringify(value), /[\u007f\u009b\u202e]/, "JSON.stringify alone is not enough");
    const json = jsonForTerminal(value);
    assert.doesNotMatch(json.replace(/\n/g, ""), CONTROLS);
    assert.deepEqual(JSON.parse(json), value);
  });

  it("indents like JSON.stringify", () => {
    assert.equal(jsonForTerminal({ a: [1] }), '{\n  "a": [\n    1\n  ]\n}');
    assert.equal(jsonForTerminal({ a: 1 }, 4), '{\n    "a": 1\n}');
  });
});

describe("TerminalText", () => {
  it("carries text as given", () => {
    const text = TerminalText.trusted(`${ESC}[91mContainers:${ESC}[0m`);
    assert.equal(text.text, `${ESC}[91mContainers:${ESC}[0m`);
    assert.equal(String(text), text.text);
  });
});
