// The package's public entry point drives the same engine as the CLI: pull, record, images,
// inspect, get, add, rename, rm, all as typed calls, against the real registry harness.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Sregistry, SregistryError, type PullEvent } from "../../src/index.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

let registry: RegistryServer;

before(async () => {
  registry = await startRegistry({ auth: "basic" });
  await pushImage(registry, "team/tool:2.0", sampleImage());
  await pushImage(registry, "team/other:1.0", sampleImage());
});
after(() => registry?.stop());

forEachBackend((backend) => {
  let home: TmpDir;
  let client: Sregistry;

  before(async () => {
    home = await tmpDir("sregistry-library-");
    const database = backend.name === "sqlite" ? join(home.path, "db") : await backend.databaseSetting();
    client = new Sregistry({
      env: {
        PATH: process.env.PATH,
        HOME: home.path,
        SREGISTRY_CLIENT: "docker",
        SREGISTRY_DOCKERHUB_BASE: registry.host,
        SREGISTRY_DOCKERHUB_NOHTTPS: "true",
        SREGISTRY_DOCKERHUB_USERNAME: registry.username!,
        SREGISTRY_DOCKERHUB_PASSWORD: registry.password!,
        SREGISTRY_CLIENT_SECRETS: join(home.path, ".sregistry"),
        SREGISTRY_DATABASE: database,
        SREGISTRY_STORAGE: join(home.path, "storage"),
        SINGULARITY_CACHEDIR: join(home.path, "cache"),
        SREGISTRY_TMPDIR: home.path,
      },
    });
  });

  after(async () => {
    client?.close();
    await home?.cleanup();
  });

  test("pull returns the stored SIF, emits progress events and records the image", async () => {
    const events: PullEvent["type"][] = [];
    const result = await client.pull("team/tool:2.0", { onEvent: (event) => events.push(event.type) });
    assert.equal(result.reused, false);
    assert.ok(existsSync(result.path));
    assert.match(result.uri, /^team\/tool:2\.0@[a-f0-9]{64}$/);
    assert.ok(events.includes("resolved") && events.includes("layer-done") && events.includes("done"));
    assert.equal(await client.get("team/tool:2.0"), result.path);
    assert.equal((await client.inspect("team/tool:2.0")).record.client, "docker");
    const again = await client.pull("team/tool:2.0");
    assert.equal(again.reused, true);
    assert.equal(again.path, result.path);
  });

  test("record, images, add, rename and rm as typed calls", async () => {
    const recorded = await client.record("team/other:1.0");
    assert.equal(recorded.uri, "team/other:1.0");
    assert.equal(recorded.exists, false);
    // Pulled by the test before: the local row is reported, no remote row is added.
    const pulled = await client.record("team/tool:2.0");
    assert.equal(pulled.exists, true);
    assert.match(pulled.uri, /^team\/tool:2\.0@[a-f0-9]{64}$/);
    const file = join(home.path, "local.sif");
    writeFileSync(file, "not really a SIF");
    await assert.rejects(client.add(file, { name: "me/local:1" }), { code: "NOT_AN_IMAGE" });
    const added = await client.add(file, { name: "me/local:1", force: true });
    assert.ok(existsSync(added.path));
    const renamed = await client.rename("me/local:1", "me/renamed:1");
    assert.equal(renamed.uri.startsWith("me/renamed:1@"), true);
    assert.deepEqual(
      (await client.images("renamed")).map((row) => row.name),
      ["renamed"],
    );
    await client.rm("me/renamed:1");
    assert.deepEqual(await client.images("renamed"), []);
  });

  test("errors are SregistryError with a code", async () => {
    await assert.rejects(
      client.get("nothing/here:1"),
      (err: unknown) => err instanceof SregistryError && err.code === "NOT_FOUND",
    );
    await assert.rejects(
      client.record("team/missing:1"),
      (err: unknown) => err instanceof SregistryError && err.code === "NOT_FOUND",
    );
  });
});
