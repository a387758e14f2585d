/**
 * `mv` run as the unprivileged `nobody` (runuser) into a root-owned 0755 folder: one ERROR line,
 * exit 1, file and row untouched; into a folder nobody owns: success.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_MAIN, isolatedEnv, runCli } from "../harness/cli.js";
import { tinySif } from "../../src/image/sif/tiny-sif.testing.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { databaseEnv } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
forEachBackend((backend) => {
  let base: TmpDir;
  let env: Record<string, string>;
  let stored: string;

  function chownTree(path: string): void {
    chownSync(path, NOBODY, NOBODY);
    for (const entry of readdirSync(path, { recursive: true }))
      chownSync(join(path, entry.toString()), NOBODY, NOBODY);
  }

  /** The CLI as `nobody`, with the isolated environment. */
  function cliAsNobody(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const argv = [
        "-u",
        "nobody",
        "--",
        process.execPath,
        "--import",
        import.meta.resolve("tsx"),
        CLI_MAIN,
        ...args,
      ];
      const child = spawn("runuser", argv, { cwd: base.path, env: { PATH: process.env.PATH ?? "", ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? 128, stdout, stderr }));
    });
  }

  before(async () => {
    if (!isRoot) return;
    base = await tmpDir("sregistry-cli-nobody-");
    chmodSync(base.path, 0o755);
    env = { ...isolatedEnv(base.path), ...(await databaseEnv(backend)) };
    mkdirSync(join(base.path, ".singularity"));
    writeFileSync(join(base.path, "img.sif"), tinySif("image"));
    const added = await runCli(["add", join(base.path, "img.sif"), "--name", "lab/img", "--json"], {
      baseDir: base.path,
      env,
    });
    assert.equal(added.code, 0, added.stderr);
    stored = (JSON.parse(added.stdout) as { path: string }).path;
    chownTree(join(base.path, ".singularity"));
    chownTree(join(base.path, "tmp"));
    mkdirSync(join(base.path, "rootonly"), { mode: 0o755 });
    mkdirSync(join(base.path, "mine"));
    chownSync(join(base.path, "mine"), NOBODY, NOBODY);
  });
  after(() => base?.cleanup());

  test(
    "mv into a root-owned 0755 folder as nobody: one ERROR line, nothing moved",
    { skip: !isRoot && "needs root" },
    async () => {
      const result = await cliAsNobody(["--quiet", "mv", "lab/img", join(base.path, "rootonly")]);
      assert.deepEqual(result, {
        code: 1,
        stdout: "",
        stderr: `ERROR Destination directory ${join(base.path, "rootonly")} is not writable\n`,
      });
      assert.ok(existsSync(stored));
      assert.deepEqual(readdirSync(join(base.path, "rootonly")), []);
      const get = await runCli(["get", "lab/img"], { baseDir: base.path, env });
      assert.equal(get.stdout, `${stored}\n`);
    },
  );

  test("mv into a folder nobody owns works as nobody", { skip: !isRoot && "needs root" }, async () => {
    const result = await cliAsNobody(["--quiet", "mv", "lab/img", join(base.path, "mine")]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!existsSync(stored));
    assert.equal(
      (await runCli(["get", "lab/img"], { baseDir: base.path, env })).stdout,
      `${join(base.path, "mine", "latest@")}${stored.split("@")[1]}\n`,
    );
  });
});
