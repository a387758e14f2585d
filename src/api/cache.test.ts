import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { utimes } from "node:fs/promises";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { BlobStore } from "../cache/blob-store.js";
import { digestOf } from "../oci/digest.js";
import { blobCacheDir, cacheClean, cacheList, parseDuration, parseSize } from "./cache.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { forEachBackend } from "../catalog/backends.testing.js";

const DAY = 86_400_000;
const blobs = {
  old: Buffer.alloc(3000, 1), // config of the catalog image, last used 40 days ago
  mid: Buffer.alloc(2000, 2), // layer of the catalog image, 10 days ago
  new: Buffer.alloc(1000, 3), // no image, used today
};
const digest = (name: keyof typeof blobs) => digestOf(blobs[name]);

forEachBackend((backend) => {
  describe("cache list and clean", () => {
    let t: TempCatalog;
    let store: BlobStore;
    beforeEach(async () => {
      t = tempCatalog("sregistry-cache-", await backend.databaseSetting());
      store = new BlobStore(blobCacheDir(t.ctx.settings));
      const now = Date.now();
      const ages = { old: 40 * DAY, mid: 10 * DAY, new: 0 };
      for (const name of ["old", "mid", "new"] as const) {
        const blob = blobs[name];
        await store.ensure({ digest: digestOf(blob), size: blob.length }, async () => ({
          body: Readable.from([blob]),
          offset: 0,
        }));
        const when = new Date(now - ages[name]);
        await utimes(store.path(digestOf(blob)), when, when);
        await utimes(store.layout.usedPath(digestOf(blob)), when, when);
      }
      await t.ctx.catalog().upsertContainer({
        collection: "nvidia",
        name: "pytorch",
        tag: "24.01",
        version: "",
        client: "nvidia",
        image: null,
        url: null,
        metrics: { "2": { config: { digest: digest("old") }, layers: [{ digest: digest("mid") }] } },
      });
    });
    afterEach(() => t.dispose());

    it("lists blobs least recently used first, with sizes and the catalog images using them", async () => {
      const listing = await cacheList(t.ctx);
      assert.equal(listing.totalBytes, 6000);
      assert.deepEqual(
        listing.blobs.map((b) => [b.digest, b.size, b.images, b.held]),
        [
          [digest("old"), 3000, ["nvidia/pytorch:24.01"], false],
          [digest("mid"), 2000, ["nvidia/pytorch:24.01"], false],
          [digest("new"), 1000, [], false],
        ],
      );
      assert.ok(Date.now() - Date.parse(listing.blobs[0]!.lastUsed) > 39 * DAY);
    });

    it("--older-than removes only what was not used for that long; --dry-run removes nothing", async () => {
      const dry = await cacheClean(t.ctx, { olderThan: "30d", dryRun: true });
      assert.deepEqual(
        dry.removed.map((b) => b.digest),
        [digest("old")],
      );
      assert.equal(await store.has(digest("old")), true, "dry run");
      const real = await cacheClean(t.ctx, { olderThan: "5d" });
      assert.deepEqual(
        real.removed.map((b) => b.digest),
        [digest("old"), digest("mid")],
      );
      assert.equal(real.freedBytes, 5000);
      assert.deepEqual(
        (await cacheList(t.ctx)).blobs.map((b) => b.digest),
        [digest("new")],
      );
    });

    it("--max-size removes least recently used blobs until the cache fits", async () => {
      const result = await cacheClean(t.ctx, { maxSize: "2.5K" });
      assert.deepEqual(
        result.removed.map((b) => b.digest),
        [digest("old"), digest("mid")],
      );
      assert.equal(result.remainingBytes, 1000);
    });

    it("never removes a blob a running pull holds, even with --all; a released hold frees it", async () => {
      const hold = await store.hold([digest("mid")]);
      const listing = await cacheList(t.ctx);
      assert.equal(listing.blobs.find((b) => b.digest === digest("mid"))?.held, true);
      const result = await cacheClean(t.ctx, { all: true });
      assert.deepEqual(
        result.skipped.map((b) => b.digest),
        [digest("mid")],
      );
      assert.equal(await store.has(digest("mid")), true);
      assert.equal(await store.has(digest("old")), false);
      hold.release();
      assert.deepEqual(
        (await cacheClean(t.ctx, { all: true })).removed.map((b) => b.digest),
        [digest("mid")],
      );
    });

    // SQLite only: the check is that no database file appears.
    it(
      "does not create a catalog just to list the cache",
      { skip: backend.name !== "sqlite" && "SQLite only: no database file to look for" },
      async () => {
        const other = tempCatalog("sregistry-cache-nodb-");
        try {
          assert.deepEqual((await cacheList(other.ctx)).blobs, []);
          assert.equal(existsSync(other.ctx.settings.databasePath), false);
        } finally {
          other.dispose();
        }
      },
    );

    it("asks for a criterion and parses ages and sizes", async () => {
      await assert.rejects(cacheClean(t.ctx, {}), { code: "USAGE" });
      assert.equal(parseDuration("30d"), 30 * DAY);
      assert.equal(parseDuration("12h"), 12 * 3_600_000);
      assert.equal(parseDuration("2w"), 14 * DAY);
      assert.equal(parseSize("50G"), 50 * 1024 ** 3);
      assert.equal(parseSize("500MiB"), 500 * 1024 ** 2);
      assert.equal(parseSize("1024"), 1024);
      assert.throws(() => parseSize("lots"), /--max-size lots: give a size such as 50G/);
      assert.throws(() => parseDuration("-3d"), { code: "USAGE" });
    });
  });
});
