import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Context } from "./context.js";
import { search } from "./search.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let temp: TempCatalog;
  let ctx: Context;
  before(async () => {
    temp = tempCatalog("sregistry-search-", await backend.databaseSetting());
    ctx = temp.ctx;
    await row("nvidia", "tensorflow", "17.11");
    await row("nvidia", "caffe2", "17.10", { config: { config: { Labels: { framework: "Caffe2" } } } });
    await row("library", "busybox", "latest");
  });
  after(() => temp.dispose());

  async function row(collection: string, name: string, tag: string, metrics: object = {}): Promise<void> {
    await ctx.catalog().upsertContainer({
      collection,
      name,
      tag,
      version: "",
      client: "docker",
      image: null,
      url: null,
      metrics,
    });
  }

  const uris = (rows: { uri: string | null }[]) => rows.map((r) => r.uri);

  test("no words lists every row; words match uri, name, tag or labels, all words needed", async () => {
    assert.equal((await search(ctx, [])).local.length, 3);
    assert.deepEqual(uris((await search(ctx, ["NVIDIA"])).local), [
      "nvidia/tensorflow:17.11",
      "nvidia/caffe2:17.10",
    ]);
    assert.deepEqual(uris((await search(ctx, ["nvidia", "17.1"])).local), [
      "nvidia/tensorflow:17.11",
      "nvidia/caffe2:17.10",
    ]);
    assert.deepEqual(uris((await search(ctx, ["nvidia", "flow"])).local), ["nvidia/tensorflow:17.11"]);
    assert.deepEqual(uris((await search(ctx, ["caffe2"])).local), ["nvidia/caffe2:17.10"]);
    assert.deepEqual(uris((await search(ctx, ["framework"])).local), ["nvidia/caffe2:17.10"], "label key");
    assert.deepEqual(uris((await search(ctx, ["nvidia/tensorflow:17.11"])).local), [
      "nvidia/tensorflow:17.11",
    ]);
    assert.deepEqual((await search(ctx, ["nothing"])).local, []);
  });

  test("with the default hub client nothing is asked of a registry; --remote says why it cannot", async () => {
    assert.deepEqual((await search(ctx, ["busybox"])).remote, []);
    await assert.rejects(search(ctx, ["busybox"], { remote: true }), {
      code: "BAD_CLIENT",
      message: /search --remote needs the docker or nvidia backend, not hub/,
    });
  });

  test("--local never asks a registry, even with a docker:// word", async () => {
    const found = await search(ctx, ["docker://busybox"], { local: true });
    assert.deepEqual(uris(found.local), ["library/busybox:latest"], "the scheme is ignored for the catalog");
    assert.deepEqual(found.remote, []);
  });
});
