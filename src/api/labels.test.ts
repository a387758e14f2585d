import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Context } from "./context.js";
import { labels } from "./labels.js";

const dir = mkdtempSync(join(tmpdir(), "sregistry-labels-"));
mkdirSync(join(dir, "db"));
const ctx = new Context({
  env: { SREGISTRY_DATABASE: join(dir, "db"), SREGISTRY_STORAGE: join(dir, "s") },
  home: dir,
});
after(() => {
  ctx.close();
  rmSync(dir, { recursive: true, force: true });
});

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

await row("a", {
  uri: "c/a:1",
  digest: "sha256:not-a-label",
  labels: { "org.opencontainers.image.version": "1.2", MAINTAINER: "vanessasaur" },
});
await row("b", { config: { config: { Labels: { maintainer: "NVIDIA", "com.nvidia.build.id": "42" } } } });
await row("c", { type: "container" });

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
