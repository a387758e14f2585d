import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { digestOf } from "../oci/digest.js";
import { BlobStore } from "./blob-store.js";
import type { BlobOpener } from "./download.js";

const BLOB = randomBytes(64 * 1024);
const DIGEST = digestOf(BLOB);
const descriptor = { digest: DIGEST, size: BLOB.length };

/** An opener that serves BLOB and counts requests; `during` runs while the download is under way. */
function counting(during?: () => Promise<void>): BlobOpener & { calls: number } {
  const opener = Object.assign(
    async () => {
      opener.calls++;
      await during?.();
      return { body: Readable.from([BLOB]), offset: 0 };
    },
    { calls: 0 },
  );
  return opener;
}

describe("a blob cache others can write to", () => {
  let dir: string;
  let n = 0;
  const fresh = async () => {
    const d = join(dir, `s${++n}`);
    await mkdir(d, { mode: 0o700 });
    return d;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sregistry-shared-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("checks the size of a present blob and fetches a truncated one again", async () => {
    const store = new BlobStore(join(await fresh(), "blobs"));
    await store.ensure(descriptor, counting());
    await writeFile(store.path(DIGEST), BLOB.subarray(0, 100));
    const again = new BlobStore(store.root);
    const opener = counting();
    const result = await again.ensure(descriptor, opener);
    assert.equal(opener.calls, 1);
    assert.equal(result.cached, false);
    assert.deepEqual(await readFile(store.path(DIGEST)), BLOB);
  });

  it("re-hashes present blobs with verifyDigest (SREGISTRY_VERIFY_CACHE), only size without", async () => {
    const root = join(await fresh(), "blobs");
    await new BlobStore(root).ensure(descriptor, counting());
    const forged = Buffer.alloc(BLOB.length, 7);
    await writeFile(join(root, "sha256", DIGEST.slice(7)), forged);

    const sizeOnly = counting();
    assert.equal((await new BlobStore(root).ensure(descriptor, sizeOnly)).cached, true);
    assert.equal(sizeOnly.calls, 0, "same size passes the cheap check");

    const verifying = counting();
    const result = await new BlobStore(root, { verifyDigest: true }).ensure(descriptor, verifying);
    assert.equal(verifying.calls, 1, "the forged blob was replaced");
    assert.equal(result.cached, false);
    assert.deepEqual(await readFile(join(root, "sha256", DIGEST.slice(7))), BLOB);
  });

  it("in a group-writable directory: setgid 2770 directories, 0640 blobs and locks, digests re-checked", async () => {
    const parent = await fresh();
    await chmod(parent, 0o2770);
    const old = process.umask(0o077); // the cache's modes must not depend on the user's umask
    try {
      const store = new BlobStore(join(parent, "sregistry", "blobs"));
      let lockMode = 0;
      await store.ensure(
        descriptor,
        counting(async () => {
          lockMode = (await stat(join(store.root, "locks", `${DIGEST.slice(7)}.lock`))).mode & 0o7777;
        }),
      );
      assert.equal(store.isShared, true);
      for (const sub of ["sregistry", "sregistry/blobs", "sregistry/blobs/sha256", "sregistry/blobs/locks"]) {
        assert.equal((await stat(join(parent, sub))).mode & 0o7777, 0o2770, sub);
      }
      assert.equal((await stat(store.path(DIGEST))).mode & 0o777, 0o640);
      assert.equal(lockMode, 0o640);

      await writeFile(store.path(DIGEST), Buffer.alloc(BLOB.length, 1));
      const opener = counting();
      await new BlobStore(store.root).ensure(descriptor, opener);
      assert.equal(opener.calls, 1, "a same-size forgery in a shared cache is caught without the setting");
    } finally {
      process.umask(old);
    }
  });

  it("never shows another process a shared directory before it has its final mode", async () => {
    const parent = await fresh();
    await chmod(parent, 0o2770);
    const subs = ["sregistry", "sregistry/blobs", "sregistry/blobs/sha256", "sregistry/blobs/tmp"];
    // Another process deciding "shared or private" from a directory caught between mkdir (mode cut
    // by the umask) and chmod would make private directories inside the shared cache. A thread
    // watching the paths plays that process.
    const watcher = new Worker(
      `const { statSync } = require("node:fs");
       const { parentPort, workerData } = require("node:worker_threads");
       const seen = new Set();
       let stop = false;
       parentPort.on("message", () => { stop = true; });
       (function poll() {
         for (let i = 0; i < 2000; i++)
           for (const path of workerData) {
             try { seen.add((statSync(path).mode & 0o7777).toString(8)); } catch {}
           }
         if (stop) parentPort.postMessage([...seen]); else setImmediate(poll);
       })();`,
      { eval: true, workerData: subs.map((sub) => join(parent, sub)) },
    );
    const old = process.umask(0o077);
    try {
      for (let round = 0; round < 20; round++) {
        await rm(join(parent, "sregistry"), { recursive: true, force: true });
        await new BlobStore(join(parent, "sregistry", "blobs")).ensure(descriptor, counting());
      }
    } finally {
      process.umask(old);
    }
    const seen = new Promise<string[]>((resolve) => watcher.once("message", resolve));
    watcher.postMessage("stop");
    const modes = await seen;
    await watcher.terminate();
    assert.deepEqual(modes, ["2770"]);
  });

  it("stays private under a world-writable parent such as /tmp", async () => {
    const parent = await fresh();
    await chmod(parent, 0o1777);
    const store = new BlobStore(join(parent, "cache", "blobs"));
    await store.ensure(descriptor, counting());
    assert.equal(store.isShared, false);
    assert.equal((await stat(join(parent, "cache"))).mode & 0o7777, 0o700);
    assert.equal((await stat(store.path(DIGEST))).mode & 0o777, 0o600);
  });

  it("takes over at once a lock whose lease, written by another host, has expired", async () => {
    const store = new BlobStore(join(await fresh(), "blobs"), { pollMs: 10 });
    await mkdir(join(store.root, "locks"), { recursive: true });
    const lease = {
      pid: 1,
      hostname: "dead-node.example",
      token: "abc",
      created: 0,
      expires: Date.now() - 1,
    };
    await writeFile(join(store.root, "locks", `${DIGEST.slice(7)}.lock`), JSON.stringify(lease));
    const opener = counting();
    const pauses: number[] = [];
    const sleep = (ms: number) => (pauses.push(ms), Promise.resolve());
    const result = await store.ensure(descriptor, opener, { sleep });
    assert.equal(result.cached, false);
    assert.equal(opener.calls, 1);
    assert.deepEqual(pauses, [], "taken over without waiting for the lock");
  });
});
