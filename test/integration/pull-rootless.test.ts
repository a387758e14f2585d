/**
 * `sregistry pull` run as the unprivileged `nobody` (HOME, cache, storage and temp owned by nobody):
 * the SIF builds without any privilege and the ownership inside its squashfs is the image's (root,
 * uid 1000, gid 42…), not nobody's; device nodes and setuid files are in the squashfs as the image
 * has them. A `--sandbox` as nobody works too: device nodes become empty files with one warning,
 * 0000/0500 directories are filled, and ownership is nobody's (it cannot be kept without root).
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-rootless
 * ```
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, chownSync, readdirSync } from "node:fs";
import { lstat, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerEnv, richImage, sifPartition, successPath } from "../harness/pull.js";
import { CLI_MAIN, isolatedEnv, type CliResult } from "../harness/cli.js";
import { pushImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

function chownTree(path: string): void {
  chownSync(path, NOBODY, NOBODY);
  for (const entry of readdirSync(path, { recursive: true }))
    chownSync(join(path, String(entry)), NOBODY, NOBODY);
}

function cliAsNobody(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath];
    argv.push("--import", import.meta.resolve("tsx"), CLI_MAIN, ...args);
    const child = spawn("setpriv", argv, {
      cwd,
      env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

/** `unsquashfs -lln` of the SIF's partition: path → "perms uid/gid". */
async function listing(sif: string): Promise<Map<string, string>> {
  const { offset } = await sifPartition(sif);
  const out = await run("unsquashfs", ["-lln", "-o", String(offset), sif]);
  const entries = new Map<string, string>();
  for (const line of out.stdout.split("\n")) {
    const match = /^(\S+) (\d+)\/(\d+)\s+.*? squashfs-root\/?(\S*)/.exec(line);
    if (match) entries.set(match[4]!.split(" -> ")[0]!, `${match[1]} ${match[2]}/${match[3]}`);
  }
  return entries;
}

describe("pull: rootless, as nobody", { skip: !isRoot && "needs root to switch to nobody" }, () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    await pushImage(server, "library/rich:1", richImage());
    tmp = await tmpDir("pull-rootless-");
    chmodSync(tmp.path, 0o755);
    env = { ...isolatedEnv(tmp.path), ...dockerEnv(server) };
    chownTree(tmp.path);
  });

  after(async () => {
    await server?.stop();
    await tmp?.cleanup();
  });

  it("builds the SIF with the image's ownership, not nobody's", async () => {
    const result = await cliAsNobody(["pull", "docker://library/rich:1"], env, tmp.path);
    assert.equal(result.code, 0, result.stderr);
    const sif = successPath(result.stdout);
    assert.equal((await stat(sif)).uid, NOBODY);
    const entries = await listing(sif);
    assert.equal(entries.get("home/user/file"), "-rw------- 1000/100");
    assert.equal(entries.get("bin/sh"), "-rwsr-xr-x 0/0");
    assert.equal(entries.get("bin/sg"), "-rwxr-sr-x 0/42");
    assert.equal(entries.get("d0000"), "d--------- 0/0");
    assert.match(entries.get("dev/loop0") ?? "", /^brw-rw---- 0\/6$/);
    assert.equal(entries.get(".singularity.d/runscript"), "-rwxr-xr-x 0/0");
    assert.ok(![...entries.values()].some((v) => v.includes(`${NOBODY}/`)), "nothing owned by nobody");
  });

  it("writes a --sandbox without privileges: devices as empty files, modes kept", async () => {
    const dir = join(tmp.path, "sandbox");
    const result = await cliAsNobody(["pull", "--sandbox", dir, "docker://library/rich:1"], env, tmp.path);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /WARNING 2 device node\(s\) written as empty files/);
    const device = await lstat(join(dir, "dev/loop0"));
    assert.ok(device.isFile() && device.size === 0);
    assert.equal(device.uid, NOBODY);
    assert.equal((await stat(join(dir, "d0000"))).mode & 0o7777, 0);
    assert.equal((await stat(join(dir, "d0500"))).mode & 0o7777, 0o500);
    assert.equal((await stat(join(dir, "bin/sh"))).mode & 0o7777, 0o4755);
    assert.ok((await lstat(join(dir, "run/fifo"))).isFIFO());
    assert.equal(await readFile(join(dir, "d0500/f"), "utf8"), "in 0500");
    assert.equal((await lstat(join(dir, "abs"))).isSymbolicLink(), true);
  });
});
