/**
 * Disk preflight: with the image storage on a small tmpfs, `sregistry pull` stops before any layer
 * is fetched with one clear "not enough free space" error naming the place, instead of filling
 * the disk halfway through a build. Needs root (mount); skipped when tmpfs cannot be mounted.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-disk
 * ```
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { blobGets, dockerEnv } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

function tryMountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]).status === 0;
}

const probe = process.getuid?.() === 0;

describe("pull: disk preflight", { skip: !probe && "needs root to mount a small tmpfs" }, () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let storage: string;
  let mounted = false;
  let layers: string[] = [];

  before(async () => {
    tmp = await tmpDir("pull-disk-");
    storage = join(tmp.path, "small");
    mounted = tryMountTmpfs(storage, "8m");
    server = await startRegistry({ auth: "anonymous" });
    const pushed = await pushImage(server, "library/sample:1", sampleImage());
    layers = pushed.layout.images[0]!.layers.map((l) => l.digest);
  });

  after(async () => {
    if (mounted) spawnSync("umount", [storage]);
    await server?.stop();
    await tmp?.cleanup();
  });

  it("refuses to start when the storage cannot hold the image", async (t) => {
    if (!mounted) return t.skip("tmpfs could not be mounted here");
    const from = server.requests.length;
    const result = await runCli(["pull", "docker://library/sample:1"], {
      env: { ...dockerEnv(server), SREGISTRY_STORAGE: storage },
      baseDir: join(tmp.path, "home"),
    });
    assert.notEqual(result.code, 0);
    const errors = result.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(
      errors[0]!,
      new RegExp(`^ERROR not enough free space in ${storage} \\(image being built\\): need .* free$`),
    );
    const fetched = blobGets(server, from);
    assert.equal(fetched.length, 1, "only the config, while resolving");
    assert.ok(!fetched.some((p) => layers.some((digest) => p.endsWith(digest))), "no layer fetched");
    // Nothing written; the (empty) build directory that holds the build lock may stay.
    const written = readdirSync(storage, { recursive: true, withFileTypes: true }).filter(
      (e) => !e.isDirectory(),
    );
    assert.deepEqual(written, []);
  });
});
