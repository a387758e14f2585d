import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Catalog } from "./catalog.js";
import { openCatalog } from "./database.js";
import {
  MD5_A,
  MD5_B,
  ORIGINAL_DDL_SCRIPT,
  ORIGINAL_ROWS_SCRIPT,
  makeTempDir,
  sqliteCli,
} from "./catalog.testing.js";

let dir: string;
let counter = 0;
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const newPath = (): string => join(dir, `db${++counter}.db`);

function withOriginalDb(): { path: string; catalog: Catalog } {
  const path = newPath();
  sqliteCli(path, ORIGINAL_DDL_SCRIPT + ORIGINAL_ROWS_SCRIPT);
  return { path, catalog: openCatalog(path) };
}

const base = {
  collection: "library",
  name: "busybox",
  tag: "latest",
  client: "docker",
  image: null,
  url: null,
  metrics: {},
};

describe("a database written by the original", () => {
  let catalog: Catalog;
  let path: string;
  beforeEach(() => {
    ({ catalog, path } = withOriginalDb());
  });

  it("lists every row in id order with the joined collection", () => {
    const rows = catalog.listContainers();
    assert.deepEqual(
      rows.map((r) => [r.id, r.collection, r.uri, r.version, r.image === null]),
      [
        [1, "vsoch", `vsoch/hello-world:latest@${MD5_B}`, MD5_B, false],
        [2, "vsoch", `vsoch/hello-world:latest@${MD5_A}`, MD5_A, false],
        [3, "nvidia", "nvidia/caffe2:17.10", "", true],
      ],
    );
    assert.equal(rows[1]?.created_at, "2018-02-03 10:11:12.123456");
    catalog.close();
  });

  it("finds by name with and without version; no version = smallest version string", () => {
    const q = { collection: "vsoch", name: "hello-world", tag: "latest" };
    assert.equal(catalog.getContainer(q)?.version, MD5_A);
    assert.equal(catalog.getContainer({ ...q, version: "" })?.version, MD5_A);
    assert.equal(catalog.getContainer({ ...q, version: MD5_B })?.id, 1);
    assert.equal(catalog.getContainer({ ...q, version: "0".repeat(32) }), undefined);
    assert.equal(catalog.getContainer({ ...q, collection: "nobody" }), undefined);
    const remote = catalog.getContainer({ collection: "nvidia", name: "caffe2", tag: "17.10" });
    assert.equal(remote?.url, "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10");
    catalog.close();
  });

  it("updates and deletes rows so the sqlite3 shell sees the change", () => {
    const updated = catalog.updateContainer(1, { image: "/new/place.sif" });
    assert.equal(updated?.image, "/new/place.sif");
    assert.equal(updated?.uri, `vsoch/hello-world:latest@${MD5_B}`);
    assert.equal(catalog.deleteContainer(3), true);
    assert.equal(catalog.deleteContainer(3), false);
    assert.equal(catalog.deleteCollectionIfEmpty(1), false);
    assert.equal(catalog.deleteCollectionIfEmpty(2), true);
    catalog.close();
    assert.equal(
      sqliteCli(path, "SELECT id, image FROM container ORDER BY id; SELECT name FROM collection;"),
      `1|/new/place.sif\n2|/home/u/.singularity/shub/vsoch-hello-world:latest@${MD5_A}.simg\nvsoch\n`,
    );
  });

  it("upsert of an existing key merges the original's metrics", () => {
    const { row, created } = catalog.upsertContainer({
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
    catalog.close();
  });

  it("searches labels in top-level keys and recorded image configs", () => {
    assert.deepEqual(
      catalog.searchLabels({ key: "maintainer" }).map((m) => [m.row.id, m.key, m.value]),
      [[1, "MAINTAINER", "vanessasaur"]],
    );
    assert.deepEqual(
      catalog.searchLabels({ value: "42" }).map((m) => [m.row.id, m.key]),
      [[3, "com.nvidia.build.id"]],
    );
    assert.equal(catalog.searchLabels({ key: "uri" }).length, 0);
    assert.equal(catalog.searchLabels().length, 2);
    catalog.close();
  });
});

describe("upsertContainer", () => {
  it("inserts with a uri, a UTC timestamp and a uuid4 collection token", () => {
    const catalog = openCatalog(newPath());
    const { row, created } = catalog.upsertContainer({ ...base, version: "abc", metrics: { a: [1] } });
    assert.equal(created, true);
    assert.equal(row.uri, "library/busybox:latest@abc");
    assert.equal(row.metrics, '{"a": [1]}');
    assert.match(row.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.ok(Math.abs(Date.parse(row.created_at.replace(" ", "T") + "Z") - Date.now()) < 60_000);
    const collection = catalog.findCollection("library");
    assert.match(
      collection?.token ?? "",
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const remote = catalog.upsertContainer({ ...base, tag: "1.0", version: "", url: "https://x/v2/m" });
    assert.equal(remote.row.uri, "library/busybox:1.0");
    assert.equal(remote.row.version, "");
    catalog.close();
  });

  it("updates the same collection/name/tag/version, keeps a new image and sets url and client", () => {
    const catalog = openCatalog(newPath());
    const first = catalog.upsertContainer({
      ...base,
      version: "v1",
      image: "/a.sif",
      url: "u1",
      metrics: { a: 1, b: 1 },
    });
    const second = catalog.upsertContainer({
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
    const other = catalog.upsertContainer({ ...base, version: "v2" });
    assert.equal(other.created, true);
    assert.equal(catalog.listContainers().length, 2);
    catalog.close();
  });

  it("prefers the row with the same client when several clients share a version", () => {
    const path = newPath();
    const catalog = openCatalog(path);
    catalog.upsertContainer({ ...base, version: "v" });
    catalog.db
      .prepare(
        "INSERT INTO container (created_at, metrics, name, tag, uri, client, version, collection_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run("2020-01-01 00:00:00", "{}", "busybox", "latest", "library/busybox:latest@v", "nvidia", "v", 1);
    const { row, created } = catalog.upsertContainer({
      ...base,
      version: "v",
      client: "nvidia",
      metrics: { x: 1 },
    });
    assert.equal(created, false);
    assert.equal(row.id, 2);
    catalog.close();
  });

  it("replaces metrics that were not JSON", () => {
    const catalog = openCatalog(newPath());
    const { row } = catalog.upsertContainer({ ...base, version: "v" });
    catalog.updateContainer(row.id, { metrics: "not json" });
    assert.equal(
      catalog.upsertContainer({ ...base, version: "v", metrics: { k: "v" } }).row.metrics,
      '{"k": "v"}',
    );
    catalog.close();
  });
});

describe("listContainers query", () => {
  let catalog: Catalog;
  before(() => {
    catalog = openCatalog(newPath());
    catalog.upsertContainer({ ...base, name: "busybox", tag: "latest", version: "aaa" });
    catalog.upsertContainer({ ...base, collection: "nvidia", name: "caffe2", tag: "17.10", version: "" });
    catalog.upsertContainer({
      ...base,
      collection: "nvidia",
      name: "tensorflow",
      tag: "18.01-py3",
      version: "bbb",
    });
  });
  after(() => catalog.close());

  const names = (query?: string): string[] => catalog.listContainers(query).map((r) => r.name);

  it("lists everything for no query, '' and '*'", () => {
    for (const q of [undefined, "", "*"]) assert.deepEqual(names(q), ["busybox", "caffe2", "tensorflow"]);
  });

  it("matches name, tag and uri substrings, case-insensitively", () => {
    assert.deepEqual(names("BUSY"), ["busybox"]);
    assert.deepEqual(names("py3"), ["tensorflow"]);
    assert.deepEqual(names("NVIDIA/"), ["caffe2", "tensorflow"]);
    assert.deepEqual(names("@bbb"), ["tensorflow"]);
    assert.deepEqual(names("17.1"), ["caffe2"]);
    assert.deepEqual(names("nothing"), []);
  });
});

describe("updateContainer", () => {
  it("moves a row to another collection, creating it, and recomputes the uri", () => {
    const catalog = openCatalog(newPath());
    const { row } = catalog.upsertContainer({ ...base, version: "v1" });
    const moved = catalog.updateContainer(row.id, { collection: "mine", name: "box", tag: "1" });
    assert.equal(moved?.collection, "mine");
    assert.equal(moved?.uri, "mine/box:1@v1");
    assert.ok(catalog.findCollection("library"));
    assert.equal(catalog.updateContainer(row.id, { uri: "custom" })?.uri, "custom");
    assert.equal(catalog.updateContainer(999, { tag: "x" }), undefined);
    catalog.close();
  });

  it("rolls back everything when a write fails inside transaction()", () => {
    const catalog = openCatalog(newPath());
    assert.throws(() =>
      catalog.transaction(() => {
        catalog.upsertContainer({ ...base, version: "v1" });
        throw new Error("boom");
      }),
    );
    assert.equal(catalog.listContainers().length, 0);
    assert.equal(catalog.findCollection("library"), undefined);
    catalog.close();
  });
});

describe("a name shared by a remote record and local images", () => {
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

  it("storing a local image deletes the remote record of the same name, and only that", () => {
    const catalog = openCatalog(newPath());
    catalog.upsertContainer(remote);
    catalog.upsertContainer({ ...remote, tag: "18.01", url: "other tag" });
    catalog.upsertContainer(local("b".repeat(64)));
    assert.deepEqual(
      catalog.listContainers().map((r) => [r.tag, r.version, r.image !== null]),
      [
        ["18.01", "", false],
        ["17.11", "b".repeat(64), true],
      ],
    );
    catalog.close();
  });

  it("without a version, a local row wins over a remote one, newest first", () => {
    const catalog = openCatalog(newPath());
    // A record made after the pull: the remote row is the newest, yet the file wins.
    catalog.upsertContainer(local("b".repeat(64)));
    catalog.upsertContainer(local("a".repeat(64)));
    catalog.upsertContainer(remote);
    assert.equal(catalog.listContainers().length, 3);
    assert.equal(catalog.getContainer(names)?.version, "a".repeat(64), "newest local, not smallest version");
    catalog.db.exec(
      "UPDATE container SET created_at = '2030-01-01 00:00:00' WHERE version = '" + "b".repeat(64) + "'",
    );
    assert.equal(catalog.getContainer(names)?.version, "b".repeat(64), "created_at decides before the id");
    catalog.db.exec("DELETE FROM container WHERE image IS NOT NULL");
    assert.equal(catalog.getContainer(names)?.url, remote.url, "the remote record when no file exists");
    catalog.close();
  });
});
