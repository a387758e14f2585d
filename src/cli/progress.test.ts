import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PullEvent } from "../pull/events.js";
import { PullProgress } from "./progress.js";

const ESC = "\x1b";
/** Our own sequences: cursor up, carriage return + erase line. */
const OWN = new RegExp(`${ESC}\\[\\d+A|\\r${ESC}\\[2K`, "g");
// eslint-disable-next-line no-control-regex -- the test looks for raw control characters
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Events of a pull whose reference, platform and layer digest carry terminal sequences. */
const HOSTILE: PullEvent[] = [
  { type: "stage", stage: "resolve" },
  {
    type: "resolved",
    reference: `r.io/x:${ESC}]0;owned\x07`,
    digest: "sha256:" + "d".repeat(64),
    platform: `linux/amd64${ESC}[2J\u009b31m`,
    layers: [{ digest: `sha256:${ESC}[2J` + "a".repeat(60), size: 10, cached: false }],
  },
  { type: "stage", stage: "download" },
  { type: "layer-progress", digest: `sha256:${ESC}[2J` + "a".repeat(60), bytes: 5 },
  { type: "reused", path: "/p", uri: `x/y:1\u202e` },
];

function render(tty: boolean): string {
  let text = "";
  const progress = new PullProgress({ write: (t: string) => (text += t) }, { tty, now: () => 0 });
  for (const event of HOSTILE) progress.handle(event);
  progress.close();
  return text;
}

describe("PullProgress with names from a hostile registry", () => {
  it("escapes them in log lines", () => {
    const text = render(false);
    assert.doesNotMatch(text.replace(/\n/g, ""), RAW_CONTROL);
    assert.match(text, /for linux\/amd64\\u001b\[2J\\u009b31m:/);
    assert.match(text, /r\.io\/x:\\u001b\]0;owned\\u0007/);
  });

  it("escapes them in the bars on a terminal, keeping only its own cursor sequences", () => {
    const text = render(true);
    assert.ok(text.includes(`\r${ESC}[2K`), "bars are drawn in place");
    assert.doesNotMatch(text.replace(OWN, "").replace(/\n/g, ""), RAW_CONTROL);
    assert.match(text, /\\u001b\[2J/);
  });
});
