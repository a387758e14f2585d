import assert from "node:assert/strict";
import { after, before, beforeEach, afterEach, describe, it } from "node:test";
import type { Catalog } from "./catalog.js";
import { exec, forEachBackend } from "./backends.testing.js";
import { MD5_A, MD5_B } from "./catalog.testing.js";

const base = {
  collection: "library",
  name: "busybox",
  tag: "latest",
  client: "docker",
  image: null,
  url: null,
  metrics: {},
};

forEachBackend((backend) => {
  let catalog: Catalog;
  const fresh = async (): Promise<void> => {
    catalog = await backend.open();
  };
  afterEach(async () => {
    await catalog.close();
  });

  describe("a database written by the original", () => {
    beforeEach(async () => {
      catalog = await backend.openOriginal();
    });

    it("lists every row in id order with the joined collection", async () => {
      const rows = await catalog.listContainers();
      assert.deepEqual(
        rows.map((r) => [r.id, r.collection, r.uri, r.version, r.image === null]),
        [
          [1, "vsoch", `vsoch/hello-world:latest@${MD5_B}`, MD5_B, false],
          [2, "vsoch", `vsoch/hello-world:latest@${MD5_A}`, MD5_A, false],
          [3, "nvidia", "nvidia/caffe2:17.10", "", true],
        ],
      );
      assert.equal(rows[1]?.created_at, "2018-02-03 10:11:12.123456");
    });

    it("finds by name with and without version; no version = smallest version string", async () => {
      const q = { collection: "vsoch", name: "hello-world", tag: "latest" };
      assert.equal((await catalog.getContainer(q))?.version, MD5_A);
      assert.equal((await catalog.getContainer({ ...q, version: "" }))?.version, MD5_A);
      assert.equal((await catalog.getContainer({ ...q, version: MD5_B }))?.id, 1);
      assert.equal(await catalog.getContainer({ ...q, version: "0".repeat(32) }), undefined);
      assert.equal(await catalog.getContainer({ ...q, collection: "nobody" }), undefined);
      const remote = await catalog.getContainer({ collection: "nvidia", name: "caffe2", tag: "17.10" });
      assert.equal(remote?.url, "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10");
    });

    it(`updates and deletes rows so that ${backend.name === "sqlite" ? "sqlite3" : "psql"} sees the change`, async () => {
      const updated = await catalog.updateContainer(1, { image: "/new/place.sif" });
      assert.equal(updated?.image, "/new/place.sif");
      assert.equal(updated?.uri, `vsoch/hello-world:latest@${MD5_B}`);
      assert.equal(await catalog.deleteContainer(3), true);
      assert.equal(await catalog.deleteContainer(3), false);
      assert.equal(await catalog.deleteCollectionIfEmpty(1), false);
      assert.equal(await catalog.deleteCollectionIfEmpty(2), true);
      assert.equal(
        await backend.outside(
          catalog,
          "SELECT id, image FROM container ORDER BY id; SELECT name FROM collection;",
        ),
        `1|/new/place.sif\n2|/home/u/.singularity/shub/vsoch-hello-world:latest@${MD5_A}.simg\nvsoch\n`,
      );
    });

    it("upsert of an existing key merges the original's metrics", async () => {
      const { row, created } = await catalog.upsertContainer({
        ...base,
        collection: "vsoch",
        name: "hello-world",
        version: MD5_B,
        client: "docker",
        metrics: { type: "updated", extra: 1.5 },
      });
      assert.equal(created, false);
      assert.equal(row.id, 1);
      assert.equal(row.client, "docker");
      assert.equal(row.image, `/home/u/.singularity/shub/vsoch-hello-world:latest@${MD5_B}.simg`);
      assert.equal(row.url, null);
      assert.equal(
        row.metrics,
        `{"collection": "vsoch", "image": "hello-world", "MAINTAINER": "vanessasaur", "type": "updated", ` +
          `"uri": "vsoch/hello-world:latest@${MD5_B}", "version": "${MD5_B}", "extra": 1.5}`,
      );
    });

    it("inserts after the original's rows", async () => {
      const { row } = await catalog.upsertContainer({ ...base, collection: "vsoch", version: "v" });
      assert.equal(row.id, 4);
      assert.equal((await catalog.findCollection("vsoch"))?.id, 1);
      assert.equal((await catalog.getOrCreateCollection("new")).id, 3);
    });

    it("searches labels in top-level keys and recorded image configs", async () => {
      assert.deepEqual(
        (await catalog.searchLabels({ key: "maintainer" })).map((m) => [m.row.id, m.key, m.value]),
        [[1, "MAINTAINER", "vanessasaur"]],
      );
      assert.deepEqual(
        (await catalog.searchLabels({ value: "42" })).map((m) => [m.row.id, m.key]),
        [[3, "com.nvidia.build.id"]],
      );
      assert.equal((await catalog.searchLabels({ key: "uri" })).length, 0);
      assert.equal((await catalog.searchLabels()).length, 2);
    });
  });

  describe("upsertContainer", () => {
    beforeEach(fresh);

    it("inserts with a uri, a UTC timestamp and a uuid4 collection token", async () => {
      const { row, created } = await catalog.upsertContainer({
        ...base,
        version: "abc",
        metrics: { a: [1] },
      });
      assert.equal(created, true);
      assert.equal(row.uri, "library/busybox:latest@abc");
      assert.equal(row.metrics, '{"a": [1]}');
      assert.match(row.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.ok(Math.abs(Date.parse(row.created_at.replace(" ", "T") + "Z") - Date.now()) < 60_000);
      const collection = await catalog.findCollection("library");
      assert.match(
        collection?.token ?? "",
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.match(collection?.created_at ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const remote = await catalog.upsertContainer({
        ...base,
        tag: "1.0",
        version: "",
        url: "https://x/v2/m",
      });
      assert.equal(remote.row.uri, "library/busybox:1.0");
      assert.equal(remote.row.version, "");
    });

    it("updates the same collection/name/tag/version, keeps a new image and sets url and client", async () => {
      const first = await catalog.upsertContainer({
        ...base,
        version: "v1",
        image: "/a.sif",
        url: "u1",
        metrics: { a: 1, b: 1 },
      });
      const second = await catalog.upsertContainer({
        ...base,
        version: "v1",
        client: "nvidia",
        image: null,
        metrics: { b: 2 },
      });
      assert.equal(second.created, false);
      assert.equal(second.row.id, first.row.id);
      assert.equal(second.row.image, "/a.sif");
      assert.equal(second.row.url, null);
      assert.equal(second.row.client, "nvidia");
      assert.equal(second.row.metrics, '{"a": 1, "b": 2}');
      const other = await catalog.upsertContainer({ ...base, version: "v2" });
      assert.equal(other.created, true);
      assert.equal((await catalog.listContainers()).length, 2);
    });

    it("prefers the row with the same client when several clients share a version", async () => {
      await catalog.upsertContainer({ ...base, version: "v" });
      await exec(
        catalog,
        "INSERT INTO container (created_at, metrics, name, tag, uri, client, version, collection_id) " +
          "VALUES ('2020-01-01 00:00:00', '{}', 'busybox', 'latest', 'library/busybox:latest@v', 'nvidia', 'v', 1)",
      );
      const { row, created } = await catalog.upsertContainer({
        ...base,
        version: "v",
        client: "nvidia",
        metrics: { x: 1 },
      });
      assert.equal(created, false);
      assert.equal(row.id, 2);
    });

    it("replaces metrics that were not JSON", async () => {
      const { row } = await catalog.upsertContainer({ ...base, version: "v" });
      await catalog.updateContainer(row.id, { metrics: "not json" });
      assert.equal(
        (await catalog.upsertContainer({ ...base, version: "v", metrics: { k: "v" } })).row.metrics,
        '{"k": "v"}',
      );
    });
  });

  describe("listContainers query", () => {
    let listed: Catalog;
    before(async () => {
      listed = await backend.open();
      await listed.upsertContainer({ ...base, name: "busybox", tag: "latest", version: "aaa" });
      await listed.upsertContainer({
        ...base,
        collection: "nvidia",
        name: "caffe2",
        tag: "17.10",
        version: "",
      });
      await listed.upsertContainer({
        ...base,
        collection: "nvidia",
        name: "tensorflow",
        tag: "18.01-py3",
        version: "bbb",
      });
    });
    beforeEach(fresh);
    after(() => listed.close());

    const names = async (query?: string): Promise<string[]> =>
      (await listed.listContainers(query)).map((r) => r.name);

    it("lists everything for no query, '' and '*'", async () => {
      for (const q of [undefined, "", "*"])
        assert.deepEqual(await names(q), ["busybox", "caffe2", "tensorflow"]);
    });

    it("matches name, tag and uri substrings, case-insensitively", async () => {
      assert.deepEqual(await names("BUSY"), ["busybox"]);
      assert.deepEqual(await names("py3"), ["tensorflow"]);
      assert.deepEqual(await names("NVIDIA/"), ["caffe2", "tensorflow"]);
      assert.deepEqual(await names("@bbb"), ["tensorflow"]);
      assert.deepEqual(await names("17.1"), ["caffe2"]);
      assert.deepEqual(await names("nothing"), []);
    });

    it("summaries are the same rows with only the columns the table shows", async () => {
      for (const query of [undefined, "NVIDIA/", "busy", "nothing"]) {
        const full = (await listed.listContainers(query)).map((r) => ({
          created_at: r.created_at,
          client: r.client,
          collection: r.collection,
          name: r.name,
          tag: r.tag,
          version: r.version,
        }));
        const summaries = (await listed.listContainerSummaries(query)).map((r) => ({ ...r }));
        assert.deepEqual(summaries, full, String(query));
      }
    });
  });

  describe("updateContainer and transactions", () => {
    beforeEach(fresh);

    it("moves a row to another collection, creating it, and recomputes the uri", async () => {
      const { row } = await catalog.upsertContainer({ ...base, version: "v1" });
      const moved = await catalog.updateContainer(row.id, { collection: "mine", name: "box", tag: "1" });
      assert.equal(moved?.collection, "mine");
      assert.equal(moved?.uri, "mine/box:1@v1");
      assert.ok(await catalog.findCollection("library"));
      assert.equal((await catalog.updateContainer(row.id, { uri: "custom" }))?.uri, "custom");
      assert.equal(await catalog.updateContainer(999, { tag: "x" }), undefined);
    });

    it("rolls back everything when a write fails inside transaction()", async () => {
      await assert.rejects(
        catalog.transaction(async (tx) => {
          await tx.upsertContainer({ ...base, version: "v1" });
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal((await catalog.listContainers()).length, 0);
      assert.equal(await catalog.findCollection("library"), undefined);
    });

    it("sees its own writes inside a transaction and joins nested ones", async () => {
      const count = await catalog.transaction(async (tx) => {
        await tx.upsertContainer({ ...base, version: "v1" });
        await tx.transaction((inner) => inner.upsertContainer({ ...base, version: "v2" }));
        return (await tx.listContainers()).length;
      });
      assert.equal(count, 2);
    });

    it("runs this process's transactions one after the other", async () => {
      const order: string[] = [];
      const slow = catalog.transaction(async (tx) => {
        order.push("a begins");
        await tx.upsertContainer({ ...base, version: "a" });
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push("a ends");
      });
      const fast = catalog.transaction(async (tx) => {
        order.push("b begins");
        await tx.upsertContainer({ ...base, version: "b" });
        order.push("b ends");
      });
      await Promise.all([slow, fast]);
      assert.deepEqual(order, ["a begins", "a ends", "b begins", "b ends"]);
      assert.equal((await catalog.listContainers()).length, 2);
    });
  });

  describe("a name shared by a remote record and local images", () => {
    beforeEach(fresh);
    const names = { collection: "nvidia", name: "tensorflow", tag: "17.11" };
    const remote = {
      ...names,
      version: "",
      client: "nvidia",
      image: null,
      url: "https://nvcr.io/v2/nvidia/tensorflow/manifests/17.11",
      metrics: {},
    };
    const local = (version: string) => ({
      ...remote,
      version,
      image: `/storage/nvidia/tensorflow/17.11@${version}.sif`,
    });

    it("storing a local image deletes the remote record of the same name, and only that", async () => {
      await catalog.upsertContainer(remote);
      await catalog.upsertContainer({ ...remote, tag: "18.01", url: "other tag" });
      await catalog.upsertContainer(local("b".repeat(64)));
      assert.deepEqual(
        (await catalog.listContainers()).map((r) => [r.tag, r.version, r.image !== null]),
        [
          ["18.01", "", false],
          ["17.11", "b".repeat(64), true],
        ],
      );
    });

    it("without a version, a local row wins over a remote one, newest first", async () => {
      // A record made after the pull: the remote row is the newest, yet the file wins.
      await catalog.upsertContainer(local("b".repeat(64)));
      await catalog.upsertContainer(local("a".repeat(64)));
      await catalog.upsertContainer(remote);
      assert.equal((await catalog.listContainers()).length, 3);
      assert.equal(
        (await catalog.getContainer(names))?.version,
        "a".repeat(64),
        "newest local, not smallest version",
      );
      await exec(
        catalog,
        "UPDATE container SET created_at = '2030-01-01 00:00:00' WHERE version = '" + "b".repeat(64) + "'",
      );
      assert.equal(
        (await catalog.getContainer(names))?.version,
        "b".repeat(64),
        "created_at decides before the id",
      );
      await exec(catalog, "DELETE FROM container WHERE image IS NOT NULL");
      assert.equal(
        (await catalog.getContainer(names))?.url,
        remote.url,
        "the remote record when no file exists",
      );
    });
  });
});
