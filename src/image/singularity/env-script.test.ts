import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerEnvScript } from "./env-script.js";

const SHELLS = ["sh", "bash"];

/** Sources the generated script in a real shell and returns the value of `name`. */
function valueAfterSourcing(script: string, name: string, env: Record<string, string>, shell = "sh"): string {
  const dir = mkdtempSync(join(tmpdir(), "envscript-"));
  try {
    const path = join(dir, "10-docker2singularity.sh");
    writeFileSync(path, script);
    const result = spawnSync(shell, ["-c", `. "$1"; printf %s "$${name}"`, "sh", path], {
      env: { PATH: "/usr/bin:/bin", ...env },
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("exact text: shebang, default-only values, PATH always set, escaping", () => {
  const script = dockerEnvScript(["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8", "EMPTY", 'Q=a"b$c`d\\e']);
  assert.equal(
    script,
    [
      "#!/bin/sh",
      'export PATH="/opt/bin:/usr/bin"',
      'export LANG="${LANG:-"C.UTF-8"}"',
      'export EMPTY="${EMPTY:-}"',
      'export Q="${Q:-"a\\"b\\$c\\`d\\\\e"}"',
      "",
    ].join("\n"),
  );
});

test("null, undefined and empty Env give just the shebang", () => {
  assert.equal(dockerEnvScript(null), "#!/bin/sh\n");
  assert.equal(dockerEnvScript(undefined), "#!/bin/sh\n");
  assert.equal(dockerEnvScript([]), "#!/bin/sh\n");
});

test("invalid names are skipped, order kept", () => {
  const script = dockerEnvScript(["1BAD=x", "A-B=y", "=z", "GOOD_1=v", "_U=w", "ok=1"]);
  assert.equal(
    script,
    '#!/bin/sh\nexport GOOD_1="${GOOD_1:-"v"}"\nexport _U="${_U:-"w"}"\nexport ok="${ok:-"1"}"\n',
  );
});

const tricky = [
  "with spaces  and  more",
  "single'quote",
  'double"quote',
  "dollar $HOME and ${HOME} and $(id)",
  "back`tick`s",
  "back\\slash\\\\double and \\$ and \\n",
  "brace } and { and :- and ${",
  "multi\nline",
  "=equals=inside=",
  "",
];

for (const shell of SHELLS) {
  test(`${shell}: sourced values are byte-exact for shell metacharacters`, () => {
    for (const value of tricky) {
      const script = dockerEnvScript([`VAR=${value}`]);
      assert.equal(valueAfterSourcing(script, "VAR", { HOME: "/home/x" }, shell), value, `value ${value}`);
    }
  });

  test(`${shell}: a variable already set wins, except PATH`, () => {
    const script = dockerEnvScript(["VAR=image", "PATH=/image/bin"]);
    assert.equal(valueAfterSourcing(script, "VAR", { VAR: "caller" }, shell), "caller");
    assert.equal(valueAfterSourcing(script, "VAR", {}, shell), "image");
    // `:-` semantics: an empty caller value counts as unset.
    assert.equal(valueAfterSourcing(script, "VAR", { VAR: "" }, shell), "image");
    assert.equal(valueAfterSourcing(script, "PATH", {}, shell), "/image/bin");
  });

  test(`${shell}: NAME without = keeps the caller's value or becomes empty`, () => {
    const script = dockerEnvScript(["KEEP"]);
    assert.equal(valueAfterSourcing(script, "KEEP", { KEEP: "mine" }, shell), "mine");
    assert.equal(valueAfterSourcing(script, "KEEP", {}, shell), "");
  });
}
