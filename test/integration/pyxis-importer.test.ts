/**
 * The Pyxis importer called as Pyxis calls it (importer.c: execve(importer, ["importer", "get", URI])
 * with the job's environment plus PYXIS_RUNTIME_PATH and PYXIS_VERSION; the path is read from the
 * first line of stdout, stderr is a log): three concurrent steps of one job for the same image get
 * one build and three per-step paths to the same file; `release` removes only its own step's path,
 * is idempotent, and succeeds without a `get`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CLI_MAIN, isolatedEnv } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

let registry: RegistryServer;
let home: TmpDir;
let importer: string;
let runtimePath: string;
let cacheDir: string;

before(async () => {
  registry = await startRegistry({ auth: "anonymous" });
  home = await tmpDir("sregistry-pyxis-");
  runtimePath = join(home.path, "run-pyxis");
  cacheDir = join(home.path, "pyxis-cache");
  await pushImage(registry, "nvidia/pytorch:24.01-py3", sampleImage());
  // What an administrator installs: Pyxis' importer= takes an executable without arguments.
  importer = join(home.path, "sregistry-pyxis-importer");
  const tsx = import.meta.resolve("tsx");
  writeFileSync(
    importer,
    `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${CLI_MAIN}" pyxis-importer "$@"\n`,
  );
  chmodSync(importer, 0o755);
});

after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

function step(stepId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...isolatedEnv(home.path),
    SREGISTRY_DOCKERHUB_NOHTTPS: "true",
    SREGISTRY_PYXIS_CACHE: cacheDir,
    PYXIS_RUNTIME_PATH: runtimePath,
    PYXIS_VERSION: "0.24.0",
    SLURM_JOB_UID: "0",
    SLURM_JOB_ID: "4242",
    SLURM_STEP_ID: stepId,
    SLURM_JOB_USER: "root",
    ...extra,
  };
}

/** Runs the importer like Pyxis: argv[0] is the importer, the environment is the step's. */
function callImporter(args: string[], env: Record<string, string>, asUid?: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    // Pyxis drops to the job's user (setregid/setreuid) before execve: setpriv does the same.
    const [cmd, argv] =
      asUid === undefined
        ? [importer, args]
        : ["setpriv", [`--reuid=${asUid}`, `--regid=${asUid}`, "--clear-groups", "--", importer, ...args]];
    const child = spawn(cmd, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

const URI = () => `docker://${registry.host}#nvidia/pytorch:24.01-py3`;

test("three concurrent steps: one build, three paths to the same squashfs, each released on its own", async () => {
  const steps = ["0", "1", "2"];
  const results = await Promise.all(steps.map((id) => callImporter(["get", URI()], step(id))));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const paths = results.map((r) => r.stdout);
  paths.forEach((out, i) => {
    assert.equal(out, join(runtimePath, "0", `sregistry-4242.${steps[i]}.sqsh`) + "\n");
  });
  const builds = results.filter((r) => r.stderr.includes("pyxis: building")).length;
  assert.equal(builds, 1, results.map((r) => r.stderr).join("\n---\n"));
  const cached = readdirSync(cacheDir).filter((f) => f.endsWith(".sqsh"));
  assert.equal(cached.length, 1, cached.join(","));
  const inodes = new Set(paths.map((p) => statSync(p.trim()).ino));
  assert.deepEqual(inodes, new Set([statSync(join(cacheDir, cached[0]!)).ino]));
  const listing = await run("unsquashfs", ["-lln", paths[0]!.trim()]);
  assert.match(listing.stdout, /squashfs-root\/etc\/rc\n/);

  // Step 1 releases (twice, as Pyxis may); steps 0 and 2 and the cache are untouched.
  for (let i = 0; i < 2; i++) {
    const released = await callImporter(["release"], step("1"));
    assert.equal(released.code, 0, released.stderr);
    assert.equal(released.stdout, "");
  }
  assert.ok(!existsSync(paths[1]!.trim()));
  assert.ok(existsSync(paths[0]!.trim()) && existsSync(paths[2]!.trim()));
  assert.ok(existsSync(join(cacheDir, cached[0]!)));

  // A release for a step that never called get: success, and nothing of the others removed.
  const stranger = await callImporter(["release"], step("7"));
  assert.equal(stranger.code, 0, stranger.stderr);
  assert.ok(existsSync(paths[0]!.trim()) && existsSync(paths[2]!.trim()));

  // A later job step gets the cached file without a build.
  const again = await callImporter(["get", URI()], step("3"));
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /pyxis: building/);
  for (const id of ["0", "2", "3"]) assert.equal((await callImporter(["release"], step(id))).code, 0);
  assert.deepEqual(readdirSync(join(runtimePath, "0")), []);
});

test("errors: a bad URI, an unknown image, a missing Pyxis environment — one line on stderr, nothing on stdout", async () => {
  const bad = await callImporter(["get", "docker://"], step("10"));
  assert.notEqual(bad.code, 0);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /ERROR/);
  const missing = await callImporter(["get", `docker://${registry.host}#nvidia/nothere:1`], step("11"));
  assert.notEqual(missing.code, 0);
  assert.equal(missing.stdout, "");
  assert.ok(!existsSync(join(runtimePath, "0", "sregistry-4242.11.sqsh")));
  const noEnv = await callImporter(["get", URI()], step("12", { PYXIS_RUNTIME_PATH: "" }));
  assert.equal(noEnv.code, 1);
  assert.equal(noEnv.stdout, "");
  assert.match(noEnv.stderr, /PYXIS_RUNTIME_PATH is not set/);
  const badStep = await callImporter(["release"], step("../../etc"));
  assert.equal(badStep.code, 1);
  assert.match(badStep.stderr, /SLURM_STEP_ID has an unexpected value/);
});

test("a cached squashfs that others could rewrite is refused, not handed to Pyxis", async () => {
  const ok = await callImporter(["get", URI()], step("20"));
  assert.equal(ok.code, 0, ok.stderr);
  const cached = join(
    cacheDir,
    readdirSync(cacheDir).find((f) => f.endsWith(".sqsh"))!,
  );
  assert.equal(statSync(cached).mode & 0o777, 0o644);
  chmodSync(cached, 0o666);
  try {
    const refused = await callImporter(["get", URI()], step("21"));
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, /only its owner can write/);
  } finally {
    chmodSync(cached, 0o644);
  }
  await callImporter(["release"], step("20"));
});

test("as the job's user (nobody): get builds into that user's cache, release removes the link", async () => {
  const base = join(home.path, "nobody");
  mkdirSync(base);
  chmodSync(home.path, 0o755);
  const env = {
    ...step("30", { SLURM_JOB_UID: "65534", SLURM_JOB_USER: "nobody" }),
    ...isolatedEnv(base),
    PYXIS_RUNTIME_PATH: join(base, "run"),
  };
  delete (env as Record<string, string | undefined>).SREGISTRY_PYXIS_CACHE;
  chownSync(base, 65534, 65534);
  for (const entry of readdirSync(base, { recursive: true }))
    chownSync(join(base, String(entry)), 65534, 65534);
  const got = await callImporter(["get", URI()], env, 65534);
  assert.equal(got.code, 0, got.stderr);
  const path = got.stdout.trim();
  assert.equal(path, join(base, "run", "65534", "sregistry-4242.30.sqsh"));
  assert.equal(statSync(path).uid, 65534);
  const cache = join(base, ".singularity", "sregistry", "pyxis");
  assert.equal(readdirSync(cache).filter((f) => f.endsWith(".sqsh")).length, 1);
  const listing = await run("unsquashfs", ["-lln", path]);
  assert.match(listing.stdout, /^-rw-r--r-- 0\/0 .* squashfs-root\/opt\/app\/hello\.txt$/m);
  assert.equal((await callImporter(["release"], env, 65534)).code, 0);
  assert.ok(!existsSync(path));
});
