import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Context } from "./context.js";
import { tinySif } from "../image/sif/tiny-sif.testing.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { mv } from "./mv.js";
import { rename } from "./rename.js";
import { failWrites, forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let dir: string;
  let storage: string;
  let ctx: Context;
  let temp: TempCatalog;

  beforeEach(async () => {
    temp = tempCatalog("sregistry-rename-", await backend.databaseSetting());
    ({ dir, storage, ctx } = temp);
  });
  afterEach(() => temp.dispose());

  const added = (name: string, content: string) => temp.added(name, content);

  test("rename keeps the version, moves the file, creates the new collection, drops the empty old one", async () => {
    const one = await added("old/img:1", "one");
    const renamed = await rename(ctx, "old/img:1", "New/Thing:v2");
    const to = join(storage, "new", "thing", `v2@${one.version}.sif`);
    assert.deepEqual(
      { from: renamed.from, to: renamed.to, oldUri: renamed.oldUri, uri: renamed.uri },
      { from: one.path, to, oldUri: one.uri, uri: `new/thing:v2@${one.version}` },
    );
    assert.deepEqual(readFileSync(to), tinySif("one"));
    assert.equal(existsSync(one.path), false);
    const row = (await ctx.catalog().getContainerById(one.row.id))!;
    assert.deepEqual(
      [row.collection, row.name, row.tag, row.version, row.uri, row.image],
      ["new", "thing", "v2", one.version, renamed.uri, to],
    );
    assert.equal(await ctx.catalog().findCollection("old"), undefined);
    assert.deepEqual(readdirSync(storage), ["new"], "old folders removed");
  });

  test("the old collection stays while it still has images", async () => {
    await added("old/img:1", "one");
    await added("old/img:2", "two");
    await rename(ctx, "old/img:1", "new/img:1");
    assert.ok(await ctx.catalog().findCollection("old"));
    assert.deepEqual(readdirSync(join(storage, "old", "img")).length, 1);
  });

  test("rename refuses another version, an existing identity, an unknown image", async () => {
    const one = await added("c/a:1", "one");
    const two = await added("c/b:1", "two");
    await assert.rejects(rename(ctx, "c/a:1", `c/b:1@${"0".repeat(64)}`), /rename keeps the version/);
    await assert.rejects(rename(ctx, "c/nope", "c/x"), { message: "c/nope not found" });
    // Same content → same version: the target identity exists.
    const three = await added("c/d:1", "two");
    await assert.rejects(rename(ctx, "c/d:1", "c/b:1"), /already exists in the catalog/);
    assert.ok(existsSync(one.path) && existsSync(two.path) && existsSync(three.path));
    assert.equal((await ctx.catalog().listContainers()).length, 3);
  });

  test("the new uri may repeat the version", async () => {
    const one = await added("c/a:1", "one");
    const renamed = await rename(ctx, "c/a:1", `c/b:1@${one.version}`);
    assert.equal(renamed.uri, `c/b:1@${one.version}`);
  });

  test("a remote record is not renamed (as the original): NOT_FOUND, nothing changes", async () => {
    const { row } = await ctx.catalog().upsertContainer({
      collection: "nvidia",
      name: "caffe2",
      tag: "17.10",
      version: "",
      client: "nvidia",
      image: null,
      url: "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10",
      metrics: {},
    });
    await assert.rejects(rename(ctx, "nvidia/caffe2:17.10", "mine/caffe2:stable"), {
      code: "NOT_FOUND",
      message: /^nvidia\/caffe2:17\.10 is a remote record/,
    });
    assert.deepEqual(await ctx.catalog().getContainerById(row.id), row);
    assert.equal(await ctx.catalog().findCollection("mine"), undefined);
  });

  test("an image moved out of storage comes back under the new name", async () => {
    const one = await added("c/a:1", "one");
    const out = join(dir, "out");
    mkdirSync(out);
    await mv(ctx, "c/a:1", out);
    const renamed = await rename(ctx, "c/a:1", "c/b:1");
    assert.equal(renamed.from, join(out, `1@${one.version}.sif`));
    assert.equal(renamed.to, join(storage, "c", "b", `1@${one.version}.sif`));
    assert.deepEqual(readdirSync(out), []);
  });

  test("a failing catalog write moves the file back and keeps the old row", async () => {
    const one = await added("c/a:1", "one");
    await failWrites(ctx.catalog(), "UPDATE", "no rename");
    await assert.rejects(rename(ctx, "c/a:1", "d/b:2"), /no rename/);
    assert.deepEqual(readFileSync(one.path), tinySif("one"));
    assert.equal(existsSync(join(storage, "d")), false, "no new folders left");
    assert.equal((await ctx.catalog().getContainerById(one.row.id))!.uri, one.uri);
    assert.equal(await ctx.catalog().findCollection("d"), undefined, "collection creation rolled back");
  });
});
