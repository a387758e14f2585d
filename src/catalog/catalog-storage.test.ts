import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { catalogStorage, describeCatalogStorage } from "./catalog-storage.js";
import { catalogStorageOf, openCatalog, sqliteOf } from "./database.js";
import { makeTempDir } from "./catalog.testing.js";
import { runTogether } from "./barrier.testing.js";

const CHILD = fileURLToPath(new URL("./concurrency-child.fixture.testing.ts", import.meta.url));
const NFS = 0x6969;
const LUSTRE = 0x0bd00bd0;
const EXT4 = 0xef53;
const reportedAs = (type: number) => () => ({ type });

let dir: string;
let n = 0;
const freshDir = async () => {
  const d = join(dir, `c${++n}`);
  await mkdir(d);
  return d;
};
before(async () => {
  dir = await makeTempDir();
});
after(() => rm(dir, { recursive: true, force: true }));

const row = (name: string) => ({
  collection: "c",
  name,
  tag: "latest",
  version: "",
  client: "docker",
  image: null,
  url: null,
  metrics: {},
});

describe("catalog storage by filesystem", { timeout: 120_000 }, () => {
  it("chooses WAL on a local disk and the rollback journal with a lease on network filesystems", () => {
    assert.equal(catalogStorage("/x/sregistry.db", reportedAs(EXT4)).journal, "wal");
    for (const type of [
      NFS,
      LUSTRE,
      0x47504653,
      0x19830326,
      0x00c36400,
      0xff534d42,
      0xfe534d42,
      0x65735546,
    ]) {
      const storage = catalogStorage("/x/sregistry.db", reportedAs(type));
      assert.equal(storage.journal, "delete", `type 0x${type.toString(16)}`);
      assert.equal(storage.lockPath, "/x/sregistry.db.sregistry-lock");
    }
    // Node may report a large f_type as a negative 32-bit number.
    assert.equal(catalogStorage("/x/db", reportedAs(0xff534d42 | 0)).filesystem, "cifs");
    assert.match(
      describeCatalogStorage(catalogStorage("/x/db", reportedAs(LUSTRE))),
      /journal delete .*lustre/,
    );
  });

  it("a local catalog keeps WAL", async () => {
    const d = await freshDir();
    const catalog = openCatalog(join(d, "sregistry.db"), { statfs: reportedAs(EXT4) });
    try {
      await catalog.upsertContainer(row("a"));
      assert.equal(sqliteOf(catalog).pragma("journal_mode", { simple: true }), "wal");
      assert.equal(catalogStorageOf(catalog)?.journal, "wal");
    } finally {
      catalog.close();
    }
  });

  it("on NFS never creates -wal or -shm files, and a write holds the lease", async () => {
    const d = await freshDir();
    const dbPath = join(d, "sregistry.db");
    const catalog = openCatalog(dbPath, { statfs: reportedAs(NFS) });
    try {
      assert.equal(sqliteOf(catalog).pragma("journal_mode", { simple: true }), "delete");
      assert.equal(catalogStorageOf(catalog)?.journal, "delete");
      let during: string[] = [];
      await catalog.transaction(async () => {
        await catalog.upsertContainer(row("a")); // joins the transaction that holds the lease
        during = readdirSync(d);
      });
      assert.ok(during.includes("sregistry.db.sregistry-lock"), `lock held while writing: ${during}`);
      assert.deepEqual(await readdir(d), ["sregistry.db"], "lock released, no journal left");
      assert.equal((await catalog.listContainers()).length, 1);
    } finally {
      catalog.close();
    }
  });

  it("a WAL catalog moved onto NFS is converted to the rollback journal and leaves no -wal/-shm", async () => {
    const d = await freshDir();
    const dbPath = join(d, "sregistry.db");
    const local = openCatalog(dbPath, { statfs: reportedAs(EXT4) });
    await local.upsertContainer(row("kept"));
    local.close();
    const moved = openCatalog(dbPath, { statfs: reportedAs(NFS) });
    try {
      assert.equal(sqliteOf(moved).pragma("journal_mode", { simple: true }), "delete");
      assert.deepEqual(
        (await moved.listContainers()).map((r) => r.name),
        ["kept"],
      );
    } finally {
      moved.close();
    }
    assert.deepEqual(await readdir(d), ["sregistry.db"]);
  });

  it("a live lease of another host makes a writer give up with one line; an expired one is taken over", async () => {
    const d = await freshDir();
    const dbPath = join(d, "sregistry.db");
    openCatalog(dbPath, { statfs: reportedAs(LUSTRE) }).close();
    const lease = (expires: number) =>
      JSON.stringify({ pid: 4242, hostname: "login02.example", token: "aa", created: 0, expires });
    await writeFile(`${dbPath}.sregistry-lock`, lease(Date.now() + 60_000));
    const catalog = openCatalog(dbPath, { statfs: reportedAs(LUSTRE), lockTimeoutMs: 200 });
    try {
      await assert.rejects(
        catalog.upsertContainer(row("blocked")),
        (err: Error & { code?: string }) =>
          err.code === "LOCK_TIMEOUT" &&
          /sregistry-lock, held by host login02\.example \(pid 4242\)/.test(err.message),
      );
      await writeFile(`${dbPath}.sregistry-lock`, lease(Date.now() - 1));
      await catalog.upsertContainer(row("after"));
      assert.deepEqual(
        (await catalog.listContainers()).map((r) => r.name),
        ["after"],
      );
    } finally {
      catalog.close();
    }
  });

  it("four processes writing to a catalog reported as NFS stay consistent, without -wal/-shm", async () => {
    const d = await freshDir();
    const dbPath = join(d, "sregistry.db");
    const seen = new Set<string>();
    const watcher = setInterval(() => readdirSync(d).forEach((name) => seen.add(name)), 2);
    const labels = ["A", "B", "C", "D"];
    const results = await runTogether(
      CHILD,
      labels.map((label) => [dbPath, label, "50", String(NFS)]),
    ).finally(() => clearInterval(watcher));
    for (const result of results) {
      assert.equal(result.stderr, "");
      assert.equal(result.stdout, "done\n");
      assert.equal(result.code, 0);
    }
    assert.deepEqual(
      [...seen].filter((name) => name.endsWith("-wal") || name.endsWith("-shm")),
      [],
      `files seen: ${[...seen].join(" ")}`,
    );
    const catalog = openCatalog(dbPath, { statfs: reportedAs(NFS) });
    try {
      const rows = await catalog.listContainers();
      assert.equal(rows.length, 200);
      assert.equal(new Set(rows.map((r) => r.uri)).size, 200);
      assert.equal(sqliteOf(catalog).pragma("integrity_check", { simple: true }), "ok");
    } finally {
      catalog.close();
    }
  });
});
