import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { after, before, beforeEach, describe, it } from "node:test";
import { digestOf } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import { BlobStore } from "./blob-store.js";
import type { BlobOpener } from "./download.js";
import { tryCreateLock } from "./lock.js";
import { type BlobServer, startBlobServer } from "./blob-server.testing.js";

const BLOB = randomBytes(5 * 1024 * 1024);
const noSleep = async () => undefined;

/** Lists what a store holds besides its directories: blobs, temp files and locks. */
async function contents(store: BlobStore): Promise<{ blobs: string[]; tmp: string[]; locks: string[] }> {
  const list = (dir: string) => readdir(join(store.root, dir)).catch(() => [] as string[]);
  return { blobs: await list("sha256"), tmp: await list("tmp"), locks: await list("locks") };
}

function rejectsWithCode(code: string, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof SregistryError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}

/** Wraps an opener to remember the offsets the store asked for. */
function recording(opener: BlobOpener): BlobOpener & { offsets: number[] } {
  const offsets: number[] = [];
  return Object.assign((offset: number) => (offsets.push(offset), opener(offset)), { offsets });
}

// The timeout only guards against a hang; a loaded machine can take several times longer than a quiet one.
describe("BlobStore.ensure against an HTTP server", { timeout: 180_000 }, () => {
  let server: BlobServer;
  let dir: string;
  let store: BlobStore;
  let n = 0;

  before(async () => {
    server = await startBlobServer(BLOB);
    dir = await mkdtemp(join(tmpdir(), "sregistry-blobs-"));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    store = new BlobStore(join(dir, `store${++n}`));
    server.requests.length = 0;
    for (const key of Object.keys(server.behaviour))
      delete server.behaviour[key as keyof typeof server.behaviour];
  });

  const descriptor = () => ({ digest: server.digest, size: BLOB.length });

  it("downloads, verifies and places a blob; a second ensure makes no request", async () => {
    let progressed = 0;
    const first = await store.ensure(descriptor(), server.opener, { onProgress: (n) => (progressed += n) });
    assert.deepEqual(first, {
      path: join(store.root, "sha256", server.digest.slice(7)),
      downloaded: BLOB.length,
      cached: false,
    });
    assert.equal(progressed, BLOB.length);
    assert.ok((await readFile(first.path)).equals(BLOB));
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]!.range, undefined);

    const second = await store.ensure(descriptor(), server.opener);
    assert.deepEqual(second, { path: first.path, downloaded: 0, cached: true });
    assert.equal(server.requests.length, 1, "a cached blob costs no request");
    assert.deepEqual(await contents(store), { blobs: [server.digest.slice(7)], tmp: [], locks: [] });
  });

  it("resumes a dropped body with a Range request", async () => {
    server.behaviour.dropOnceAfter = 2 * 1024 * 1024;
    const opener = recording(server.opener);
    let progressed = 0;
    const sleeps: number[] = [];
    const result = await store.ensure(descriptor(), opener, {
      onProgress: (n) => (progressed += n),
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });
    assert.equal(server.requests.length, 2);
    const resumedAt = opener.offsets[1]!;
    assert.ok(resumedAt > 0 && resumedAt <= 2 * 1024 * 1024, `resumed at ${resumedAt}`);
    assert.equal(server.requests[1]!.range, `bytes=${resumedAt}-`);
    assert.equal(server.requests[1]!.status, 206);
    assert.deepEqual(sleeps, [250]); // half of the first ceiling (util/backoff.ts)
    assert.equal(progressed, BLOB.length);
    assert.equal(result.downloaded, BLOB.length);
    assert.ok((await readFile(result.path)).equals(BLOB));
  });

  it("copes with a server that ignores Range and starts again at 0", async () => {
    server.behaviour.dropOnceAfter = 3 * 1024 * 1024;
    server.behaviour.ignoreRange = true;
    let progressed = 0;
    const result = await store.ensure(descriptor(), server.opener, {
      onProgress: (n) => (progressed += n),
      sleep: noSleep,
    });
    assert.equal(server.requests.length, 2);
    assert.match(server.requests[1]!.range ?? "", /^bytes=\d+-$/);
    assert.equal(server.requests[1]!.status, 200);
    assert.equal(progressed, BLOB.length, "the re-sent prefix is not counted twice");
    assert.ok((await readFile(result.path)).equals(BLOB));
  });

  it("rejects wrong content with DIGEST_MISMATCH and leaves nothing behind", async () => {
    server.behaviour.content = randomBytes(BLOB.length);
    await assert.rejects(
      store.ensure(descriptor(), server.opener, { source: "127.0.0.1/test/blob" }),
      rejectsWithCode(
        "DIGEST_MISMATCH",
        new RegExp(`^blob ${server.digest} from 127.0.0.1/test/blob does not match its digest$`),
      ),
    );
    assert.deepEqual(await contents(store), { blobs: [], tmp: [], locks: [] });
    assert.equal(await store.has(server.digest), false);
  });

  it("stops reading as soon as a body exceeds the descriptor size", async () => {
    server.behaviour.extraBytes = 100 * 1024 * 1024;
    await assert.rejects(
      store.ensure(descriptor(), server.opener),
      rejectsWithCode("SIZE_MISMATCH", /larger than its size/),
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the server notice the closed socket
    const sent = server.requests[0]!.bytesSent;
    assert.ok(sent < BLOB.length + 20 * 1024 * 1024, `server sent ${sent} bytes before the client hung up`);
    assert.equal(server.requests.length, 1, "an oversized blob is not retried");
    assert.deepEqual(await contents(store), { blobs: [], tmp: [], locks: [] });
  });

  it("accepts an unknown size (-1) and still verifies the digest", async () => {
    const result = await store.ensure({ digest: server.digest, size: -1 }, server.opener);
    assert.ok((await readFile(result.path)).equals(BLOB));
    server.behaviour.content = Buffer.from("other");
    const other = new BlobStore(join(dir, "other-unknown-size"));
    await assert.rejects(
      other.ensure({ digest: server.digest, size: -1 }, server.opener),
      rejectsWithCode("DIGEST_MISMATCH"),
    );
  });

  it("shares one download among five concurrent calls", async () => {
    server.behaviour.slow = { chunk: 512 * 1024, pauseMs: 5 };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.ensure(descriptor(), server.opener)),
    );
    assert.equal(server.requests.length, 1);
    assert.equal(new Set(results.map((r) => r.path)).size, 1);
    assert.deepEqual(
      results.map((r) => r.downloaded).sort((a, b) => b - a),
      [BLOB.length, 0, 0, 0, 0],
    );
    assert.ok((await readFile(results[0]!.path)).equals(BLOB));
  });

  it("cancels on abort, cleans up, and a waiting caller takes over", async () => {
    server.behaviour.slow = { chunk: 256 * 1024, pauseMs: 20 };
    const controller = new AbortController();
    let received = 0;
    const first = store.ensure(descriptor(), server.opener, {
      signal: controller.signal,
      onProgress: (n) => {
        received += n;
        if (received >= 512 * 1024) controller.abort();
      },
    });
    const second = store.ensure(descriptor(), server.opener);
    await assert.rejects(first, { name: "AbortError" });
    const result = await second;
    assert.equal(result.cached, false);
    assert.equal(server.requests.length, 2);
    assert.ok((await readFile(result.path)).equals(BLOB));
    assert.deepEqual(await contents(store), { blobs: [server.digest.slice(7)], tmp: [], locks: [] });
  });

  it("reuses a blob that appeared while waiting for another holder's lock", async () => {
    await mkdir(join(store.root, "locks"), { recursive: true });
    const foreign = await tryCreateLock(join(store.root, "locks", `${server.digest.slice(7)}.lock`));
    assert.ok(foreign);
    const waiting = store.ensure(descriptor(), server.opener);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // As every writer does: whole file under another name, then rename. Written in place, a waiter
    // polling meanwhile would see a short file, remove it as corrupt and wait for `foreign` forever.
    await mkdir(join(store.root, "sha256"), { recursive: true });
    const blobPath = join(store.root, "sha256", server.digest.slice(7));
    await writeFile(`${blobPath}.incoming`, BLOB);
    await rename(`${blobPath}.incoming`, blobPath);
    const result = await waiting;
    await foreign.release();
    assert.deepEqual([result.cached, result.downloaded, server.requests.length], [true, 0, 0]);
  });

  it("breaks a lock left by a dead process and removes its temp file", async () => {
    const hex = server.digest.slice(7);
    const dead = spawnSync(process.execPath, ["-e", "process.pid"]).pid!;
    await mkdir(join(store.root, "locks"), { recursive: true });
    await mkdir(join(store.root, "tmp"), { recursive: true });
    const lock = {
      pid: dead,
      hostname: (await import("node:os")).hostname(),
      token: "deadbeef",
      created: Date.now(),
    };
    await writeFile(join(store.root, "locks", `${hex}.lock`), JSON.stringify(lock));
    await writeFile(join(store.root, "tmp", `${hex}.deadbeef.partial`), BLOB.subarray(0, 1000));
    const result = await store.ensure(descriptor(), server.opener);
    assert.equal(result.cached, false);
    assert.deepEqual(await contents(store), { blobs: [hex], tmp: [], locks: [] });
  });

  it("breaks a lock from another host once it has not been touched for staleMs", async () => {
    const hex = server.digest.slice(7);
    store = new BlobStore(store.root, { staleMs: 60_000, pollMs: 10 });
    await mkdir(join(store.root, "locks"), { recursive: true });
    const lockPath = join(store.root, "locks", `${hex}.lock`);
    const lock = { pid: 1, hostname: "elsewhere.example", token: "abc123", created: Date.now() };
    await writeFile(lockPath, JSON.stringify(lock));
    const waiting = store.ensure(descriptor(), server.opener);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(server.requests.length, 0, "a fresh lock of a live foreign holder is respected");
    const old = new Date(Date.now() - 120_000);
    await utimes(lockPath, old, old);
    const result = await waiting;
    assert.equal(result.cached, false);
    assert.equal(server.requests.length, 1);
  });

  it("gives up with NETWORK after maxAttempts without progress, backing off", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const failing: BlobOpener = async () => {
      calls++;
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    };
    await assert.rejects(
      store.ensure(descriptor(), failing, {
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 0.5,
        source: "example/repo",
      }),
      rejectsWithCode("NETWORK", /from example\/repo failed after 4 attempts: connect ECONNREFUSED/),
    );
    assert.equal(calls, 4);
    assert.deepEqual(sleeps, [250, 500, 1000]); // the shared policy: 4 attempts, full jitter
    assert.deepEqual(await contents(store), { blobs: [], tmp: [], locks: [] });
  });

  it("does not retry an error the opener reports as final", async () => {
    let calls = 0;
    const denied: BlobOpener = async () => {
      calls++;
      throw new SregistryError("access denied", { code: "AUTH" });
    };
    await assert.rejects(store.ensure(descriptor(), denied, { sleep: noSleep }), rejectsWithCode("AUTH"));
    assert.equal(calls, 1);
  });

  it("refuses a body that starts past the offset it asked for", async () => {
    const { Readable } = await import("node:stream");
    const wrongStart: BlobOpener = async () => ({ body: Readable.from([BLOB.subarray(10)]), offset: 10 });
    await assert.rejects(
      store.ensure(descriptor(), wrongStart),
      rejectsWithCode("BAD_RANGE", /resumed at byte 10, asked for 0/),
    );
    assert.deepEqual(await contents(store), { blobs: [], tmp: [], locks: [] });
  });

  it("validates the digest before it becomes a path or a request", async () => {
    await assert.rejects(
      store.ensure({ digest: "sha256:../../etc/passwd", size: 1 }, server.opener),
      rejectsWithCode("BAD_DIGEST"),
    );
    assert.throws(() => store.path("sha256:ABC"), rejectsWithCode("BAD_DIGEST"));
    assert.equal(server.requests.length, 0);
  });

  it("creates private files and directories", async () => {
    const result = await store.ensure(descriptor(), server.opener);
    assert.equal((await stat(result.path)).mode & 0o777, 0o600);
    for (const sub of ["", "sha256", "tmp", "locks"]) {
      assert.equal((await stat(join(store.root, sub))).mode & 0o777, 0o700, sub);
    }
  });

  it("opens a present blob and refuses a missing one", async () => {
    const small = Buffer.from("hello blob\n");
    const digest = digestOf(small);
    await store.ensure({ digest, size: small.length }, async () => ({
      body: (await import("node:stream")).Readable.from([small]),
      offset: 0,
    }));
    assert.equal(await text(store.open(digest)), "hello blob\n");
    assert.throws(() => store.open(server.digest), rejectsWithCode("NOT_FOUND"));
  });
});

describe("BlobStore.temporary", () => {
  it("lives in a fresh directory that dispose() removes", async () => {
    const parent = await mkdtemp(join(tmpdir(), "sregistry-tmpstore-"));
    try {
      const store = await BlobStore.temporary(parent);
      assert.ok(store.root.startsWith(join(parent, "sregistry-blobs-")));
      const data = Buffer.from("x");
      const { Readable } = await import("node:stream");
      await store.ensure({ digest: digestOf(data), size: 1 }, async () => ({
        body: Readable.from([data]),
        offset: 0,
      }));
      assert.equal(await store.has(digestOf(data)), true);
      await store.dispose();
      assert.deepEqual(await readdir(parent), []);
      const persistent = new BlobStore(join(parent, "keep"));
      await mkdir(persistent.root);
      await persistent.dispose();
      assert.deepEqual(await readdir(parent), ["keep"]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe("BlobStore.discard", () => {
  it("deletes one blob of a temporary store, which ensure() then fetches again; a persistent store refuses", async () => {
    const parent = await mkdtemp(join(tmpdir(), "sregistry-discard-"));
    try {
      const store = await BlobStore.temporary(parent);
      const data = Buffer.from("read once\n");
      const { Readable } = await import("node:stream");
      let opened = 0;
      const opener: BlobOpener = async () => {
        opened++;
        return { body: Readable.from([data]), offset: 0 };
      };
      const blob = { digest: digestOf(data), size: data.length };
      await store.ensure(blob, opener);
      await store.discard(blob.digest);
      assert.equal(await store.has(blob.digest), false);
      const again = await store.ensure(blob, opener);
      assert.equal(again.cached, false, "fetched again, not trusted from before");
      assert.equal(opened, 2);
      assert.equal(await readFile(store.path(blob.digest), "utf8"), "read once\n");
      await store.dispose();
      const persistent = new BlobStore(join(parent, "keep"));
      await assert.rejects(persistent.discard(blob.digest), /only for a temporary blob store/);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
