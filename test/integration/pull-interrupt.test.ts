/**
 * Interrupting `sregistry pull` (SIGINT, SIGTERM, SIGKILL) during the download (the registry front
 * serves one layer slowly) and during the build: nothing half-done is ever visible — no SIF in
 * storage, no catalog row, no unverified blob in the cache, no squashfs tool left running — the
 * status is 130/143 with one `ERROR interrupted` line, and the next pull reuses the blobs that
 * were verified before the interrupt and removes what a killed pull left behind.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-interrupt
 * ```
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { blobGets, dockerEnv, slowBlobs, startCli, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, randomBytes, type PushResult } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

/** Every blob in the cache has the content its name says; nothing else is there but locks. */
async function assertCacheVerified(base: string): Promise<string[]> {
  const dir = join(base, ".singularity", "sregistry", "blobs", "sha256");
  const names = existsSync(dir) ? await readdir(dir) : [];
  for (const name of names) {
    const actual = createHash("sha256")
      .update(await readFile(join(dir, name)))
      .digest("hex");
    assert.equal(actual, name, `cached blob ${name} is verified`);
  }
  return names.map((n) => `sha256:${n}`);
}

async function assertNothingVisible(base: string): Promise<void> {
  const storage = join(base, ".singularity", "shub");
  const visible = existsSync(storage)
    ? (await readdir(storage, { recursive: true }))
        .map(String)
        .filter((n) => n.endsWith(".sif") && !n.split("/").pop()!.startsWith("."))
    : [];
  assert.deepEqual(visible, [], "no SIF in storage");
  // The pull opens the catalog to look for a reusable image before it downloads anything.
  const db = join(base, ".singularity", "sregistry.db");
  assert.ok(existsSync(db), "the catalog was opened before the interrupt");
  assert.equal((await run("sqlite3", [db, "SELECT count(*) FROM container"])).stdout.trim(), "0");
}

/** Files (not folders) under `dir`, as relative paths; the empty build folder may stay. */
async function filesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

async function squashfsToolsFor(base: string): Promise<string[]> {
  const ps = await run("ps", ["-eo", "pid,args"]);
  return ps.stdout.split("\n").filter((l) => /sqfstar|mksquashfs|tar2sqfs/.test(l) && l.includes(base));
}

describe("pull: interrupts", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;
  let image: PushResult;
  let big: PushResult;
  let smallLayer: string;
  let slowLayer: string;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-interrupt-");
    env = dockerEnv(server);
    image = await pushImage(server, "library/two:1", {
      layers: [
        { entries: [{ path: "small.txt", content: "small layer\n" }] },
        { entries: [{ path: "slow.bin", content: randomBytes(1 << 20, "slow") }] },
      ],
    });
    [smallLayer, slowLayer] = image.layout.images[0]!.layers.map((l) => l.digest) as [string, string];
    big = await pushImage(server, "library/big:1", {
      layers: [{ entries: [{ path: "big.bin", content: randomBytes(24 << 20, "big") }] }],
    });
  });

  after(async () => {
    server.intercept = undefined;
    await server?.stop();
    await tmp?.cleanup();
  });

  for (const signal of ["SIGINT", "SIGTERM", "SIGKILL"] as const) {
    it(`${signal} during the download leaves only verified blobs, and the next pull reuses them`, async () => {
      const base = join(tmp.path, `download-${signal}`);
      server.intercept = slowBlobs(server, {
        chunk: 16 * 1024,
        everyMs: 50,
        only: (p) => p.endsWith(slowLayer),
      });
      const from = server.requests.length;
      const cli = startCli(["pull", "docker://library/two:1"], env, base);
      try {
        await cli.waitFor(/Downloading/);
        while (!blobGets(server, from).some((p) => p.endsWith(slowLayer))) await sleep(20);
        // The small layer is verified once its file is in the cache under its digest.
        const verified = join(base, ".singularity", "sregistry", "blobs", "sha256", smallLayer.slice(7));
        while (!existsSync(verified)) await sleep(20);
        cli.child.kill(signal);
        const result = await cli.done;
        const status = { SIGINT: 130, SIGTERM: 143, SIGKILL: 137 }[signal];
        assert.equal(result.code, status, result.stderr);
        if (signal !== "SIGKILL") {
          const errors = result.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
          assert.deepEqual(errors, ["ERROR interrupted"], result.stderr);
        }
      } finally {
        server.intercept = undefined;
        cli.child.kill("SIGKILL");
      }
      await assertNothingVisible(base);
      const cached = await assertCacheVerified(base);
      assert.ok(cached.includes(smallLayer), "the small layer was verified before the interrupt");
      assert.ok(!cached.includes(slowLayer), "the interrupted layer is not in the cache");
      if (signal !== "SIGKILL") {
        const temps = await readdir(join(base, ".singularity", "sregistry", "blobs", "tmp"));
        assert.deepEqual(temps, [], "no partial download left");
      }

      const again = server.requests.length;
      const next = await runCli(["pull", "docker://library/two:1"], { env, baseDir: base });
      assert.equal(next.code, 0, next.stderr);
      const fetched = blobGets(server, again);
      assert.ok(!fetched.some((p) => p.endsWith(smallLayer)), "the verified layer is not fetched again");
      assert.ok(fetched.some((p) => p.endsWith(slowLayer)));
      assert.deepEqual(await readdir(join(base, ".singularity", "sregistry", "blobs", "tmp")), []);
      assert.ok(existsSync(successPath(next.stdout)));
    });
  }

  // zstd with --builder tar2sqfs runs an external tool to stop; gzip is the default, native builder.
  const builds = [
    ["SIGINT", "zstd"],
    ["SIGKILL", "zstd"],
    ["SIGINT", "gzip"],
    ["SIGKILL", "gzip"],
  ] as const;
  for (const [signal, compression] of builds) {
    it(`${signal} during a ${compression} build leaves no SIF, no row and no squashfs tool; the next pull cleans up`, async () => {
      const base = join(tmp.path, `build-${signal}-${compression}`);
      const builder = compression === "zstd" ? ["--builder", "tar2sqfs"] : [];
      const cli = startCli(
        ["pull", ...builder, "--compression", compression, "docker://library/big:1"],
        env,
        base,
      );
      try {
        await cli.waitFor(/Building image/);
        // Interrupt once the build has begun writing: its temporary SIF is in storage (and, with
        // tar2sqfs, the external tool is running).
        const storage = join(base, ".singularity", "shub");
        while ((await filesIn(storage)).length === 0) await sleep(20);
        if (compression === "zstd") while ((await squashfsToolsFor(base)).length === 0) await sleep(20);
        cli.child.kill(signal);
        const result = await cli.done;
        assert.equal(result.code, signal === "SIGINT" ? 130 : 137, result.stderr);
        if (signal === "SIGINT") {
          assert.deepEqual(
            result.stderr.split("\n").filter((l) => l.startsWith("ERROR")),
            ["ERROR interrupted"],
          );
          assert.deepEqual(await squashfsToolsFor(base), [], "the squashfs tool was stopped");
          const storage = join(base, ".singularity", "shub");
          assert.deepEqual(await filesIn(storage), [], "temporary SIF removed");
        }
      } finally {
        cli.child.kill("SIGKILL");
      }
      await assertNothingVisible(base);
      // The config goes through the cache too, so it is there with the layer.
      const built = big.layout.images[0]!;
      assert.deepEqual(
        (await assertCacheVerified(base)).sort(),
        [built.layers[0]!.digest, built.configDigest].sort(),
      );

      // A killed pull's temporary SIF (and its orphaned tool, once it sees the end of its input) is removed.
      for (let i = 0; i < 50 && (await squashfsToolsFor(base)).length > 0; i++) await sleep(100);
      const from = server.requests.length;
      const next = await runCli(["pull", "--compression", compression, "docker://library/big:1"], {
        env,
        baseDir: base,
      });
      assert.equal(next.code, 0, next.stderr);
      assert.deepEqual(
        blobGets(server, from).filter((p) => p.includes(big.layout.images[0]!.layers[0]!.digest)),
        [],
      );
      const storage = join(base, ".singularity", "shub");
      assert.deepEqual(
        (await filesIn(storage)).filter((n) => n.split("/").pop()!.startsWith(".")),
        [],
        "no temporary file left",
      );
    });
  }
});
