/**
 * `--arch` / `--platform` on pull, record and search against the real registry with a
 * four-platform index: the flag wins over SREGISTRY_DOCKER_ARCHITECTURE, an unknown platform is one
 * line listing what the index has, and search keeps only the tags with an image for the platform.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli } from "../harness/cli.js";
import { multiPlatformIndex, pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

let registry: RegistryServer;
let home: TmpDir;

function cli(args: string[], extra: Record<string, string> = {}) {
  const env = {
    SREGISTRY_CLIENT: "docker",
    SREGISTRY_DOCKERHUB_BASE: registry.host,
    SREGISTRY_DOCKERHUB_NOHTTPS: "true",
    // The environment says amd64: every flag below must win over it.
    SREGISTRY_DOCKER_ARCHITECTURE: "amd64",
    ...extra,
  };
  return runCli(args, { env, baseDir: home.path });
}

async function recordedPlatform(uri: string): Promise<unknown> {
  const r = await cli(["inspect", "--json", uri]);
  assert.equal(r.code, 0, r.stderr);
  const row = JSON.parse(r.stdout) as { metrics: { platform: unknown } };
  return row.metrics.platform;
}

before(async () => {
  registry = await startRegistry({ auth: "anonymous" });
  home = await tmpDir("sregistry-platform-");
  await pushImage(registry, "library/multi:1", multiPlatformIndex());
  await pushImage(registry, "library/multi:amd64-only", sampleImage({ architecture: "amd64" }));
});

after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

test("pull --arch aarch64 builds the arm64/v8 image although SREGISTRY_DOCKER_ARCHITECTURE=amd64", async () => {
  const r = await cli(["--quiet", "pull", "--arch", "aarch64", "multi:1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await recordedPlatform("library/multi:1"), {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
  });
});

test("record --platform linux/arm/v6 records the arm/v6 image", async () => {
  const r = await cli(["record", "--json", "--platform", "linux/arm/v6", "multi:1"]);
  assert.equal(r.code, 0, r.stderr);
  // --json rows carry metrics as an object, like inspect --json.
  const out = JSON.parse(r.stdout) as { row: { metrics: { platform: unknown } } };
  assert.deepEqual(out.row.metrics.platform, { os: "linux", architecture: "arm", variant: "v6" });
});

test("an unknown platform fails in one line listing the available ones; nothing recorded", async () => {
  const r = await cli(["--quiet", "record", "--arch", "s390x", "multi:1"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `ERROR no image for linux/s390x in ${registry.host}/library/multi:1; ` +
      "available: linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6\n",
  );
  const bad = await cli(["--quiet", "pull", "--arch", "sparc64", "multi:1"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERROR unknown architecture "sparc64" for --arch; use one of amd64, .*\n$/);
});

test("search --arch arm64 lists only the tags that have an arm64 image", async () => {
  const all = await cli(["--quiet", "search", "--json", "--remote", "multi"]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual((JSON.parse(all.stdout) as { remote: { tags: string[] }[] }).remote[0]!.tags, [
    "1",
    "amd64-only",
  ]);
  const arm = await cli(["--quiet", "search", "--json", "--remote", "--arch", "arm64", "multi"]);
  assert.equal(arm.code, 0, arm.stderr);
  assert.deepEqual((JSON.parse(arm.stdout) as { remote: { tags: string[] }[] }).remote[0]!.tags, ["1"]);
});
