/**
 * Checks the CLI runner with a stand-in script (the CLI itself is tested elsewhere): isolation of the
 * environment, arguments, stdin, exit codes, cwd and timeouts.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs harness/cli
 * ```
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI_MAIN, isolatedEnv, REPO_ROOT, runNodeScript } from "./cli.js";
import { tmpDir, type TmpDir } from "./tools.js";

const SCRIPT = `
const input: string = await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (d) => (text += d));
  process.stdin.on("end", () => resolve(text));
});
if (process.argv[2] === "sleep") await new Promise((r) => setTimeout(r, 10_000));
console.log(JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd(), env: process.env, input }));
console.error("to stderr");
process.exitCode = 3;
`;

describe("runNodeScript / runCli", () => {
  let tmp: TmpDir;
  let script: string;
  before(async () => {
    tmp = await tmpDir("cli-runner-test-");
    script = join(tmp.path, "echo.mts");
    await writeFile(script, SCRIPT);
  });
  after(() => tmp.cleanup());

  it("finds the repository's CLI entry point relative to the harness", () => {
    assert.ok(existsSync(join(REPO_ROOT, "package.json")));
    assert.equal(CLI_MAIN, join(REPO_ROOT, "src/cli/main.ts"));
  });

  it("runs TypeScript with an isolated environment, arguments, stdin and the exit code", async () => {
    process.env.SREGISTRY_CLIENT = "leaked";
    try {
      const result = await runNodeScript(script, ["a b", "--flag"], { input: "hello", env: { EXTRA: "1" } });
      assert.equal(result.code, 3, result.stderr);
      assert.equal(result.stderr.trim(), "to stderr");
      const seen = JSON.parse(result.stdout);
      assert.deepEqual(seen.args, ["a b", "--flag"]);
      assert.equal(seen.input, "hello");
      assert.equal(seen.env.EXTRA, "1");
      assert.equal(seen.env.SREGISTRY_CLIENT, undefined);
      assert.equal(seen.env.NODE_TEST_CONTEXT, undefined);
      assert.equal(seen.cwd, seen.env.HOME);
      assert.equal(seen.env.SREGISTRY_DATABASE, join(seen.env.HOME, ".singularity"));
      assert.equal(existsSync(seen.env.HOME), false, "the fresh base dir is removed afterwards");
    } finally {
      delete process.env.SREGISTRY_CLIENT;
    }
  });

  it("uses a given base dir and lets env override its paths", async () => {
    const base = join(tmp.path, "base");
    const result = await runNodeScript(script, [], {
      baseDir: base,
      env: { SREGISTRY_STORAGE: "/elsewhere" },
    });
    const seen = JSON.parse(result.stdout);
    assert.deepEqual(
      { ...isolatedEnv(base), SREGISTRY_STORAGE: "/elsewhere" },
      Object.fromEntries(Object.keys(isolatedEnv(base)).map((k) => [k, seen.env[k]])),
    );
    assert.ok(existsSync(join(base, "tmp")));
  });

  it("rejects when the child outlives its timeout", async () => {
    await assert.rejects(runNodeScript(script, ["sleep"], { timeoutMs: 1500 }), /timed out after 1500 ms/);
  });
});
