import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerConfig } from "../../oci/types.js";
import { runscript } from "./runscript.js";

let dir = "";
let prog = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "runscript-"));
  // The "program" prints each argument it receives followed by a NUL, so argv can be compared exactly.
  prog = join(dir, "print args");
  writeFileSync(prog, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n");
  chmodSync(prog, 0o755);
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  argv: string[];
  status: number | null;
  stderr: string;
}

function run(
  config: ContainerConfig,
  args: string[],
  opts: { noEval?: boolean; shell?: string; preferCmd?: boolean } = {},
): Run {
  const path = join(dir, "runscript");
  writeFileSync(path, runscript(config, { preferCmd: opts.preferCmd === true }));
  const env: Record<string, string> = { PATH: "/usr/bin:/bin", MYVAR: "expanded value", HOME: "/home/u" };
  if (opts.noEval === true) env.SINGULARITY_NO_EVAL = "1";
  const result = spawnSync(opts.shell ?? "sh", [path, ...args], { env, encoding: "utf8" });
  const out = result.stdout;
  const argv = out === "" ? [] : out.slice(0, -1).split("\0");
  return { argv, status: result.status, stderr: result.stderr };
}

const tricky = [
  "two words",
  "single'quote",
  'double"quote',
  "$MYVAR",
  "${MYVAR}",
  "$(echo injected)",
  "`echo injected`",
  "back\\slash",
  "",
  "-n",
  "multi\nline",
];

for (const shell of ["sh", "bash"]) {
  for (const noEval of [false, true]) {
    const mode = `${shell}, ${noEval ? "SINGULARITY_NO_EVAL" : "eval"}`;

    test(`${mode}: ENTRYPOINT only, with and without user args`, () => {
      const config = { Entrypoint: [prog, ...tricky] };
      assert.deepEqual(run(config, [], { noEval, shell }).argv, tricky);
      assert.deepEqual(run(config, ["user arg", "x"], { noEval, shell }).argv, [...tricky, "user arg", "x"]);
    });

    test(`${mode}: CMD only: CMD without args, args replace it`, () => {
      const config = { Cmd: [prog, ...tricky] };
      assert.deepEqual(run(config, [], { noEval, shell }).argv, tricky);
      assert.deepEqual(run(config, [prog, "a b", "c"], { noEval, shell }).argv, ["a b", "c"]);
    });

    test(`${mode}: ENTRYPOINT and CMD: CMD is the default argument list`, () => {
      const config = { Entrypoint: [prog, "e 1"], Cmd: ["c 1", "c'2", 'c"3'] };
      assert.deepEqual(run(config, [], { noEval, shell }).argv, ["e 1", "c 1", "c'2", 'c"3']);
      assert.deepEqual(run(config, ["u 1", "u2"], { noEval, shell }).argv, ["e 1", "u 1", "u2"]);
    });

    test(`${mode}: shell-form Cmd and Entrypoint run through /bin/sh -c`, () => {
      const cmdForm = { Cmd: `"${prog}" "one two" $MYVAR` };
      assert.deepEqual(run(cmdForm, [], { noEval, shell }).argv, ["one two", "expanded", "value"]);
      const entryForm = { Entrypoint: `"${prog}" from-entrypoint "$0" "$@"`, Cmd: ["ignored?"] };
      // Docker semantics: CMD becomes $0 of the `sh -c` script.
      assert.deepEqual(run(entryForm, [], { noEval, shell }).argv, ["from-entrypoint", "ignored?"]);
    });

    test(`${mode}: nothing to run is an error`, () => {
      const result = run({}, [], { noEval, shell });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /neither ENTRYPOINT nor CMD/);
      // A command given by the user is run even when the image has none.
      assert.deepEqual(run({}, [prog, "ok"], { noEval, shell }).argv, ["ok"]);
    });

    test(`${mode}: preferCmd uses CMD alone when both are set`, () => {
      const both = { Entrypoint: ["/nonexistent/entry"], Cmd: [prog, "from cmd"] };
      assert.deepEqual(run(both, [], { noEval, shell, preferCmd: true }).argv, ["from cmd"]);
      const entryOnly = { Entrypoint: [prog, "entry"] };
      assert.deepEqual(run(entryOnly, [], { noEval, shell, preferCmd: true }).argv, ["entry"]);
    });
  }

  test(`${shell}: user args are evaluated in eval mode and verbatim with SINGULARITY_NO_EVAL`, () => {
    const config = { Entrypoint: [prog] };
    const args = ["$MYVAR", "$(echo sub)", "a b"];
    assert.deepEqual(run(config, args, { shell }).argv, ["expanded value", "sub", "a b"]);
    const verbatim = [...args, "it's", 'a"b', "c\\d", "`x`"];
    assert.deepEqual(run(config, verbatim, { noEval: true, shell }).argv, verbatim);
  });
}

test("script text: quoted OCI_ENTRYPOINT/OCI_CMD lines as Apptainer writes them", () => {
  const text = runscript({ Entrypoint: ["/bin/echo", "it's $x"], Cmd: null });
  const lines = text.split("\n");
  assert.equal(lines[0], "#!/bin/sh");
  assert.equal(lines[1], `OCI_ENTRYPOINT='"/bin/echo" "it'"'"'s \\$x"'`);
  assert.equal(lines[2], "OCI_CMD=''");
  assert.ok(text.includes(`set -- '/bin/echo' "$@"`));
  assert.ok(text.includes(`set -- 'it'"'"'s $x' "$@"`));
  assert.ok(text.endsWith('exec "$@"\n'));
});
