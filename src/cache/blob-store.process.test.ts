import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, beforeEach, describe, it } from "node:test";
import { BlobStore } from "./blob-store.js";
import { readLock } from "./lock.js";
import { type BlobServer, startBlobServer } from "./blob-server.testing.js";

const PROJECT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./ensure-child.fixture.testing.ts", import.meta.url));
const BLOB = randomBytes(5 * 1024 * 1024);
const NOBODY_UID = 65534;

interface ChildRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Starts `ensure-child` (optionally as another user through runuser) against the test server. */
function runChild(root: string, server: BlobServer, asUser?: string): ChildRun {
  const args = ["--import", "tsx", CHILD, root, server.url, server.digest, String(BLOB.length)];
  const child = asUser
    ? spawn("runuser", ["-u", asUser, "--", process.execPath, ...args], { cwd: PROJECT })
    : spawn(process.execPath, args, { cwd: PROJECT });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, output })),
  );
  return { child, done };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function contents(root: string): Promise<{ blobs: string[]; tmp: string[]; locks: string[] }> {
  const list = (dir: string) => readdir(join(root, dir)).catch(() => [] as string[]);
  return { blobs: await list("sha256"), tmp: await list("tmp"), locks: await list("locks") };
}

describe("BlobStore across processes", { timeout: 60_000 }, () => {
  let server: BlobServer;
  let dir: string;
  const children: ChildProcess[] = [];
  let n = 0;
  let root: string;

  before(async () => {
    server = await startBlobServer(BLOB);
    dir = await mkdtemp(join(tmpdir(), "sregistry-blobs-proc-"));
  });
  after(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    root = join(dir, `store${++n}`);
    server.requests.length = 0;
    server.behaviour.slow = undefined;
  });

  it("two processes ensuring one blob end with one correct file and no leftovers", async () => {
    server.behaviour.slow = { chunk: 256 * 1024, pauseMs: 15 };
    const runs = [runChild(root, server), runChild(root, server)];
    children.push(...runs.map((run) => run.child));
    const outcomes = await Promise.all(runs.map((run) => run.done));
    for (const outcome of outcomes) assert.equal(outcome.code, 0, outcome.output);
    const results = outcomes.map(
      (o) => JSON.parse(o.output) as { path: string; downloaded: number; cached: boolean },
    );
    assert.ok(
      server.requests.length >= 1 && server.requests.length <= 2,
      `${server.requests.length} downloads`,
    );
    assert.equal(results.filter((r) => !r.cached).length, server.requests.length);
    assert.equal(results[0]!.path, results[1]!.path);
    assert.ok((await readFile(results[0]!.path)).equals(BLOB));
    assert.deepEqual(await contents(root), { blobs: [server.digest.slice(7)], tmp: [], locks: [] });
  });

  it("recovers after a process is SIGKILLed mid-download", async () => {
    server.behaviour.slow = { chunk: 64 * 1024, pauseMs: 20 };
    const run = runChild(root, server);
    children.push(run.child);
    const partial = await waitFor(async () => {
      const name = (await readdir(join(root, "tmp")).catch(() => []))[0];
      if (!name) return undefined;
      const size = (await stat(join(root, "tmp", name)).catch(() => undefined))?.size ?? 0;
      return size > 0 ? name : undefined;
    });
    run.child.kill("SIGKILL");
    assert.equal((await run.done).signal, "SIGKILL");
    const lockPath = join(root, "locks", `${server.digest.slice(7)}.lock`);
    const leftLock = await readLock(lockPath);
    assert.equal(leftLock?.info?.pid, run.child.pid, "the killed process left its lock");
    assert.equal(await new BlobStore(root).has(server.digest), false, "nothing half-written is visible");

    server.behaviour.slow = undefined;
    const result = await new BlobStore(root).ensure(
      { digest: server.digest, size: BLOB.length },
      server.opener,
    );
    assert.equal(result.cached, false);
    assert.ok((await readFile(result.path)).equals(BLOB));
    assert.equal(server.requests.length, 2);
    const after = await contents(root);
    assert.ok(!after.tmp.includes(partial), "the killed download's temp file is gone");
    assert.deepEqual(after, { blobs: [server.digest.slice(7)], tmp: [], locks: [] });
  });

  const canSwitchUser =
    process.getuid?.() === 0 && spawnSync("runuser", ["-u", "nobody", "--", "true"]).status === 0;

  it(
    "works as an unprivileged user and keeps the cache private",
    { skip: !canSwitchUser && "needs root and runuser to switch to nobody" },
    async () => {
      const base = join(dir, "as-nobody");
      await mkdir(base);
      await chmod(dir, 0o755); // let nobody traverse the test directory
      await chown(base, NOBODY_UID, NOBODY_UID);
      const nobodyRoot = join(base, "cache", "sregistry", "blobs");
      const run = runChild(nobodyRoot, server, "nobody");
      children.push(run.child);
      const outcome = await run.done;
      assert.equal(outcome.code, 0, outcome.output);
      const { path } = JSON.parse(outcome.output) as { path: string };
      const file = await stat(path);
      assert.equal(file.uid, NOBODY_UID);
      assert.equal(file.mode & 0o777, 0o600);
      for (const sub of [
        "cache",
        "cache/sregistry",
        "cache/sregistry/blobs",
        "cache/sregistry/blobs/sha256",
      ]) {
        const info = await stat(join(base, sub));
        assert.equal(info.mode & 0o777, 0o700, sub);
        assert.equal(info.uid, NOBODY_UID, sub);
      }
      assert.ok((await readFile(path)).equals(BLOB));
      assert.deepEqual(await contents(nobodyRoot), { blobs: [server.digest.slice(7)], tmp: [], locks: [] });
    },
  );
});
