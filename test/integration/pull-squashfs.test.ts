/**
 * `pull --format squashfs`: a plain `.sqsh` for enroot and Pyxis, checked with `unsquashfs -lln`
 * (every entry root-owned, layer files and /.singularity.d present) and `unsquashfs -cat` for
 * enroot's /etc/environment and /etc/rc; no catalog row.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage, SAMPLE_ENV_VALUE } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";
import { sifPartition } from "../harness/pull.js";

let registry: RegistryServer;
let home: TmpDir;

function cli(args: string[]) {
  return runCli(args, { env: { SREGISTRY_DOCKERHUB_NOHTTPS: "true" }, baseDir: home.path });
}

before(async () => {
  registry = await startRegistry({ auth: "anonymous" });
  home = await tmpDir("sregistry-sqsh-");
  await pushImage(registry, "sample/app:1", sampleImage());
});

after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

test("pull --format squashfs writes an all-root squashfs with enroot's files and no catalog row", async () => {
  const out = join(home.path, "app.sqsh");
  const r = await cli([
    "pull",
    "--format",
    "squashfs",
    "--name",
    out,
    `docker://${registry.host}/sample/app:1`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(out));
  const listing = await run("unsquashfs", ["-lln", out]);
  assert.equal(listing.code, 0, listing.stderr);
  const lines = listing.stdout.split("\n").filter((l) => l.includes("squashfs-root"));
  for (const path of [
    "/bin/sh",
    "/opt/app/hello.txt",
    "/etc/environment",
    "/etc/rc",
    "/etc/rc.local",
    "/etc/fstab",
  ]) {
    assert.ok(
      lines.some((l) => l.endsWith(`squashfs-root${path}`)),
      `${path} missing`,
    );
  }
  assert.ok(lines.some((l) => l.endsWith("squashfs-root/.singularity.d/runscript")));
  assert.ok(lines.some((l) => l.endsWith("squashfs-root/.sregistry/image-config.json")));
  // Every entry is 0/0, including /opt/app/hello.txt (1000:1000 in the layer).
  for (const line of lines) assert.match(line, /^\S+ 0\/0 /, line);
  const cat = async (path: string) => (await run("unsquashfs", ["-cat", out, path])).stdout;
  const environment = await cat("/etc/environment");
  assert.ok(environment.includes(`GREETING=${SAMPLE_ENV_VALUE}\n`), environment);
  assert.ok(environment.startsWith("PATH=/usr/local/sbin:"), environment);
  const rc = await cat("/etc/rc");
  assert.match(
    rc,
    new RegExp(`^# enroot-provenance: docker://${registry.host.replace(/\./g, "\\.")}#sample/app:1\n`),
  );
  assert.ok(rc.includes(`cd "/opt/app" && unset OLDPWD || exit 1\n`), rc);
  assert.ok(rc.includes(`    exec '/bin/sh' "$@"\n`), rc);
  assert.ok(rc.includes(`    exec '/bin/sh' '-c' 'echo hi'\n`), rc);
  // No catalog row: `images` lists nothing.
  const images = await cli(["images"]);
  assert.equal(images.code, 0, images.stderr);
  assert.doesNotMatch(images.stdout, /sample\/app/);
});

test("--format squashfs without --name writes <name>:<tag>.sqsh in the current directory", async () => {
  const r = await runCli(["pull", "--format", "squashfs", `docker://${registry.host}/sample/app:1`], {
    env: { SREGISTRY_DOCKERHUB_NOHTTPS: "true" },
    baseDir: home.path,
    cwd: home.path,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(home.path, "app:1.sqsh")));
});

test("--format squashfs refuses --sandbox and an unknown format", async () => {
  const both = await cli([
    "pull",
    "--format",
    "squashfs",
    "--sandbox",
    join(home.path, "sb"),
    "docker://x/y:1",
  ]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /--format squashfs and --sandbox cannot be used together/);
  const bad = await cli(["pull", "--format", "tar", "docker://x/y:1"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /tar/);
});

/** `unsquashfs -lln` (at `offset`): path → permissions and size/target, owners left out. */
async function tree(file: string, offset = 0): Promise<Map<string, string>> {
  const out = await run("unsquashfs", ["-lln", "-o", String(offset), file]);
  const entries = new Map<string, string>();
  for (const line of out.stdout.split("\n")) {
    const match = /^(\S+) \d+\/\d+\s+(\S+) \S+ \S+ squashfs-root\/?(.*)$/.exec(line);
    if (match) entries.set(match[3]!, `${match[1]} ${match[1]!.startsWith("d") ? "" : match[2]}`);
  }
  return entries;
}

test("the .sqsh holds the SIF's tree, plus enroot's files only", async () => {
  const sqsh = join(home.path, "same.sqsh");
  const sif = join(home.path, "same.sif");
  const image = `docker://${registry.host}/sample/app:1`;
  assert.equal((await cli(["pull", "--format", "squashfs", "--name", sqsh, image])).code, 0);
  assert.equal((await cli(["pull", "--no-cache", "--name", sif, image])).code, 0);
  const fromSif = await tree(sif, (await sifPartition(sif)).offset);
  const fromSqsh = await tree(sqsh);
  assert.ok(fromSif.size > 20 && fromSif.has("opt/app/hello.txt"), [...fromSif.keys()].join(","));
  const enroot = [
    "etc/environment",
    "etc/rc",
    "etc/rc.local",
    "etc/fstab",
    ".sregistry",
    ".sregistry/image-config.json",
  ];
  for (const [path, attrs] of fromSif) assert.equal(fromSqsh.get(path), attrs, path);
  const extra = [...fromSqsh.keys()].filter((p) => !fromSif.has(p)).sort();
  assert.deepEqual(extra, [...enroot].sort());
});
