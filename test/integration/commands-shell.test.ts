/** `sregistry shell` as a real process, driven through stdin (not a terminal: no history file). */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../harness/cli.js";
import { tinySif } from "../../src/image/sif/tiny-sif.testing.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

const dirs: TmpDir[] = [];
after(() => Promise.all(dirs.map((d) => d.cleanup())));

test("shell nvidia: announcement, client in scope, .exit ends it with status 0", async () => {
  const base = await tmpDir("sregistry-cli-shell-");
  dirs.push(base);
  mkdirSync(join(base.path, ".singularity"));
  writeFileSync(join(base.path, "a.sif"), tinySif("a"));
  assert.equal(
    (await runCli(["add", join(base.path, "a.sif"), "--name", "c/a"], { baseDir: base.path })).code,
    0,
  );
  const result = await runCli(["shell", "nvidia"], {
    baseDir: base.path,
    // Piped lines are read without waiting for an await, so only synchronous expressions here.
    input: "typeof client.images\nclient.settings.defaultClient\n.exit\n",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const db = join(base.path, ".singularity", "sregistry.db");
  assert.equal(
    result.stdout,
    `[client|nvidia] [database|sqlite:///${db}]\nsregistry> 'function'\nsregistry> 'nvidia'\nsregistry> `,
  );
  assert.equal(existsSync(join(base.path, ".sregistry_history")), false, "no history without a terminal");
});
