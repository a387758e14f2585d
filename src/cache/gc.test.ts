import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../oci/digest.js";
import { BlobStore } from "./blob-store.js";
import {
  cacheSize,
  heldBlobs,
  listBlobs,
  pruneTemp,
  removeBlob,
  removeUnheldBlob,
  removeUnheldBlobs,
} from "./gc.js";
import { tryCreateLock } from "./lock.js";

describe("cache housekeeping", () => {
  let dir: string;
  let store: BlobStore;
  const blobs = [Buffer.from("first blob"), Buffer.from("second, longer blob")];
  const digests = blobs.map((b) => digestOf(b));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sregistry-gc-"));
    store = new BlobStore(join(dir, "blobs"));
    for (const blob of blobs) {
      await store.ensure({ digest: digestOf(blob), size: blob.length }, async () => ({
        body: Readable.from([blob]),
        offset: 0,
      }));
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("lists complete blobs only and measures them", async () => {
    await writeFile(join(store.root, "sha256", "not-a-digest"), "junk");
    await writeFile(join(store.root, "tmp", `${"a".repeat(64)}.zz.partial`), "12345");
    const listed = await listBlobs(store);
    assert.deepEqual(
      listed.map((b) => [b.digest, b.size]),
      digests.map((d, i) => [d, blobs[i]!.length]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    assert.deepEqual(await cacheSize(store.root), { blobs: 2, bytes: 10 + 19, tempBytes: 5 });
  });

  it("prunes temp files nobody owns, keeps a live download's, and drops old ones", async () => {
    const tmp = join(store.root, "tmp");
    const liveHex = "b".repeat(64);
    const live = await tryCreateLock(join(store.root, "locks", `${liveHex}.lock`));
    assert.ok(live);
    await writeFile(join(tmp, `${liveHex}.${live.token}.partial`), "in progress");
    await writeFile(join(tmp, `${"c".repeat(64)}.0123.partial`), "orphan");
    await writeFile(join(tmp, "foreign-file"), "recent, unknown: kept");
    await writeFile(join(tmp, "ancient-foreign-file"), "old: removed");
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(tmp, "ancient-foreign-file"), old, old);
    await writeFile(join(store.root, "locks", `${"d".repeat(64)}.lock.abcd`), "scratch");
    await utimes(join(store.root, "locks", `${"d".repeat(64)}.lock.abcd`), old, old);

    const removed = await pruneTemp(store);
    assert.deepEqual((await readdir(tmp)).sort(), [`${liveHex}.${live.token}.partial`, "foreign-file"]);
    assert.deepEqual(await readdir(join(store.root, "locks")), [`${liveHex}.lock`]);
    assert.equal(removed, 4); // the "zz" temp of the previous test, the orphan, the ancient file, the scratch
    await live.release();
    assert.equal(await pruneTemp(store), 1, "once its lock is gone the temp file goes too");
  });

  it("removes a blob and reports whether it was there", async () => {
    assert.equal(await removeBlob(store, digests[0]!), true);
    assert.equal(await removeBlob(store, digests[0]!), false);
    assert.equal(await store.has(digests[0]!), false);
    assert.equal((await listBlobs(store)).length, 1);
    await assert.rejects(removeBlob(store, "sha256:../x"), { code: "BAD_DIGEST" });
  });

  it("prunes expired holds of dead pulls and keeps live ones; removeUnheldBlob skips held blobs", async () => {
    const hex = digests[1]!.slice(7);
    const live = await store.hold([digests[1]!]);
    const expired = { pid: 1, hostname: "gone.example", token: "x1", created: 0, expires: Date.now() - 1 };
    await writeFile(join(store.root, "holds", `${hex}.x1.hold`), JSON.stringify(expired));
    assert.equal(await pruneTemp(store), 1);
    assert.equal((await readdir(join(store.root, "holds"))).length, 1, "the live hold stays");
    assert.deepEqual([...(await heldBlobs(store))], [hex]);
    assert.equal(await removeUnheldBlob(store, digests[1]!), "held");
    assert.equal(await store.has(digests[1]!), true);
    live.release();
    assert.equal(await removeUnheldBlob(store, digests[1]!), "removed");
    assert.equal(await removeUnheldBlob(store, digests[1]!), "missing");
  });

  it("reads the holds twice per batch, not per blob; a pull that starts mid-clean keeps its blob", async () => {
    const batch = ["one", "two", "three", "four"].map((text) => Buffer.from(`batch blob ${text}`));
    const ds = batch.map((b) => digestOf(b));
    for (const blob of batch) {
      await store.ensure({ digest: digestOf(blob), size: blob.length }, async () => ({
        body: Readable.from([blob]),
        offset: 0,
      }));
    }
    const early = await store.hold([ds[0]!]); // a pull running before the clean
    let late: { release(): void } | undefined;
    let reads = 0;
    const readHolds = async (root: string) => {
      reads++;
      // The second read comes after every rename: a pull starting now, for a blob it found
      // before the renames, must keep it.
      if (reads === 2) late = await store.hold([ds[1]!]);
      return heldBlobs(root);
    };
    const missing = digestOf("never stored");
    const outcomes = await removeUnheldBlobs(store, [...ds, missing], { readHolds });
    assert.equal(reads, 2, "one read before the renames, one after, for 5 blobs");
    assert.deepEqual(
      [...ds, missing].map((d) => outcomes.get(d)),
      ["held", "held", "removed", "removed", "missing"],
    );
    assert.deepEqual(
      await Promise.all(ds.map((d) => store.has(d))),
      [true, true, false, false],
      "held blobs stay (the late one linked back), the rest are gone",
    );
    assert.deepEqual(
      (await readdir(join(store.root, "tmp"))).filter((n) => n.endsWith(".removing")),
      [],
      "nothing is left aside",
    );

    reads = 0;
    const given = await removeUnheldBlobs(store, ds, { readHolds, heldBefore: new Set() });
    assert.equal(reads, 1, "with the caller's reading of the holds, one read after the renames");
    assert.equal(given.get(ds[0]!), "held", "a hold the caller did not know of is still seen");
    early.release();
    late?.release();
    assert.equal(await removeUnheldBlob(store, ds[1]!), "removed");
  });

  it("handles a store that does not exist yet", async () => {
    const empty = join(dir, "none");
    assert.deepEqual(await listBlobs(empty), []);
    assert.deepEqual(await cacheSize(empty), { blobs: 0, bytes: 0, tempBytes: 0 });
    assert.equal(await pruneTemp(empty), 0);
    await mkdir(empty);
  });
});
