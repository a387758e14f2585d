import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Context } from "./context.js";
import { labels } from "./labels.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let temp: TempCatalog;
  let ctx: Context;
  before(async () => {
    temp = tempCatalog("sregistry-labels-", await backend.databaseSetting());
    ctx = temp.ctx;
    await row("a", {
      uri: "c/a:1",
      digest: "sha256:not-a-label",
      labels: { "org.opencontainers.image.version": "1.2", MAINTAINER: "vanessasaur" },
    });
    await row("b", { config: { config: { Labels: { maintainer: "NVIDIA", "com.nvidia.build.id": "42" } } } });
    await row("c", { type: "container" });
  });
  after(() => temp.dispose());

  async function row(name: string, metrics: object): Promise<void> {
    await ctx.catalog().upsertContainer({
      collection: "c",
      name,
      tag: "1",
      version: "",
      client: "docker",
      image: null,
      url: null,
      metrics,
    });
  }

  test("no query: every label of every image that has some, grouped, in catalog order", async () => {
    const found = await labels(ctx);
    assert.deepEqual(
      found.map((image) => [image.uri, image.labels]),
      [
        [
          "c/a:1",
          [
            { key: "org.opencontainers.image.version", value: "1.2" },
            { key: "MAINTAINER", value: "vanessasaur" },
          ],
        ],
        [
          "c/b:1",
          [
            { key: "maintainer", value: "NVIDIA" },
            { key: "com.nvidia.build.id", value: "42" },
          ],
        ],
      ],
    );
  });

  test("key and value are case-insensitive parts; both must match", async () => {
    assert.deepEqual(
      (await labels(ctx, { key: "maint" })).map((i) => [i.uri, i.labels.map((l) => l.value)]),
      [
        ["c/a:1", ["vanessasaur"]],
        ["c/b:1", ["NVIDIA"]],
      ],
    );
    assert.deepEqual(
      (await labels(ctx, { key: "maint", value: "nvidia" })).map((i) => i.uri),
      ["c/b:1"],
    );
    assert.deepEqual(await labels(ctx, { value: "nothing-like-this" }), []);
  });
});
