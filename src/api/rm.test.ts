import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, unlinkSync } from "node:fs";
import type { Context } from "./context.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { rm } from "./rm.js";
import { failWrites, forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let storage: string;
  let ctx: Context;
  let temp: TempCatalog;

  beforeEach(async () => {
    temp = tempCatalog("sregistry-rm-", await backend.databaseSetting());
    ({ storage, ctx } = temp);
  });
  afterEach(() => temp.dispose());

  const added = (name: string, content: string) => temp.added(name, content);

  test("rm deletes the row, the file, the empty folders and the empty collection", async () => {
    const one = await added("col/img:1", "one");
    const two = await added("col/img:2", "two");
    const removed = await rm(ctx, "col/img:1");
    assert.equal(removed.location, one.path);
    assert.equal(removed.uri, one.uri);
    assert.equal(removed.fileMissing, false);
    assert.equal(removed.collectionRemoved, false);
    assert.equal(existsSync(one.path), false);
    assert.ok(existsSync(two.path), "the other version is untouched");
    const last = await rm(ctx, "col/img:2");
    assert.equal(last.collectionRemoved, true);
    assert.equal(await ctx.catalog().findCollection("col"), undefined);
    assert.deepEqual(readdirSync(storage), [], "storage folders removed, storage root kept");
  });

  test("a row whose file is already gone is removed, reported as fileMissing", async () => {
    const one = await added("col/img", "gone");
    unlinkSync(one.path);
    const removed = await rm(ctx, "col/img");
    assert.equal(removed.fileMissing, true);
    assert.equal((await ctx.catalog().listContainers()).length, 0);
  });

  test("a remote record is removed and reports its url", async () => {
    await ctx.catalog().upsertContainer({
      collection: "nvidia",
      name: "caffe2",
      tag: "17.10",
      version: "",
      client: "nvidia",
      image: null,
      url: "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10",
      metrics: {},
    });
    const removed = await rm(ctx, "nvidia://nvidia/caffe2:17.10");
    assert.equal(removed.location, "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10");
    assert.equal(removed.fileMissing, false);
    assert.equal((await ctx.catalog().listContainers()).length, 0);
  });

  test("not found is the original's message; nothing changes", async () => {
    const one = await added("col/img", "x");
    await assert.rejects(rm(ctx, "col/other"), {
      message: "No col/other record found in the database",
      code: "NOT_FOUND",
    });
    await assert.rejects(rm(ctx, "col/img:Bad Tag"), { code: "BAD_REFERENCE" });
    assert.ok(existsSync(one.path));
    assert.equal((await ctx.catalog().listContainers()).length, 1);
  });

  test("a failing catalog write leaves the file and the row", async () => {
    const one = await added("col/img", "stay");
    await failWrites(ctx.catalog(), "DELETE", "locked up");
    await assert.rejects(rm(ctx, "col/img"), /locked up/);
    assert.ok(existsSync(one.path));
    assert.equal((await ctx.catalog().listContainers()).length, 1);
  });
});
