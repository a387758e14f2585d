/** `sregistry shell` as a real process, driven through stdin (not a terminal: no history file). */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../harness/cli.js";
import { tinySif } from "../../src/image/sif/tiny-sif.testing.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { announcedDatabase, databaseEnv } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

const dirs: TmpDir[] = [];
after(() => Promise.all(dirs.map((d) => d.cleanup())));

forEachBackend((backend) => {
  test("shell nvidia: announcement, client in scope, .exit ends it with status 0", async () => {
    const base = await tmpDir("sregistry-cli-shell-");
    dirs.push(base);
    mkdirSync(join(base.path, ".singularity"));
    writeFileSync(join(base.path, "a.sif"), tinySif("a"));
    const sha256 = createHash("sha256").update(tinySif("a")).digest("hex");
    const env = await databaseEnv(backend);
    assert.equal(
      (await runCli(["add", join(base.path, "a.sif"), "--name", "c/a"], { baseDir: base.path, env })).code,
      0,
    );
    const result = await runCli(["shell", "nvidia"], {
      baseDir: base.path,
      env,
      // Each piped line waits for the one before, top-level await included, even just before .exit.
      input:
        "typeof client.images\n(await catalog.listContainers())[0].uri\nclient.settings.defaultClient\n.exit\n",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const db = announcedDatabase({ SREGISTRY_DATABASE: join(base.path, ".singularity"), ...env });
    assert.equal(
      result.stdout,
      `[client|nvidia] [database|${db}]\nsregistry> 'function'\nsregistry> 'c/a:latest@${sha256}'\nsregistry> 'nvidia'\nsregistry> `,
    );
    assert.equal(existsSync(join(base.path, ".sregistry_history")), false, "no history without a terminal");
  });
});
