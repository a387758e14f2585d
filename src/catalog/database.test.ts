import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { SregistryError } from "../util/errors.js";
import { appliedVersions, migrate, openCatalog, sqliteOf } from "./database.js";
import { MIGRATIONS } from "./schema.js";
import {
  ORIGINAL_COLLECTION_SQL,
  ORIGINAL_CONTAINER_SQL,
  ORIGINAL_DDL_SCRIPT,
  ORIGINAL_ROWS_SCRIPT,
  makeTempDir,
  sqliteCli,
} from "./catalog.testing.js";

let dir: string;
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function masterSql(dbPath: string): Map<string, string | null> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare("SELECT name, sql FROM sqlite_master ORDER BY name").all() as {
      name: string;
      sql: string | null;
    }[];
    return new Map(rows.map((row) => [row.name, row.sql]));
  } finally {
    db.close();
  }
}

describe("openCatalog on a new file", () => {
  it("creates exactly the original's tables and our migrations table", () => {
    const path = join(dir, "fresh.db");
    openCatalog(path).close();
    const sql = masterSql(path);
    assert.equal(sql.get("collection"), ORIGINAL_COLLECTION_SQL);
    assert.equal(sql.get("container"), ORIGINAL_CONTAINER_SQL);
    assert.equal(
      sql.get("sregistry_migrations"),
      "CREATE TABLE sregistry_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)",
    );
    assert.deepEqual(
      [...sql.keys()],
      [
        "collection",
        "container",
        "sqlite_autoindex_collection_1",
        "sqlite_autoindex_container_1",
        "sregistry_migrations",
      ],
    );
  });

  it("has the same schema as a database the original DDL made", () => {
    const ours = join(dir, "ours.db");
    const theirs = join(dir, "theirs.db");
    openCatalog(ours).close();
    sqliteCli(theirs, ORIGINAL_DDL_SCRIPT);
    const original = masterSql(theirs);
    const mine = masterSql(ours);
    for (const [name, sql] of original) assert.equal(mine.get(name), sql, name);
  });

  it("uses WAL, a 10 s busy timeout and foreign keys", () => {
    const catalog = openCatalog(join(dir, "pragmas.db"));
    try {
      assert.equal(sqliteOf(catalog).pragma("journal_mode", { simple: true }), "wal");
      assert.equal(sqliteOf(catalog).pragma("busy_timeout", { simple: true }), 10000);
      assert.equal(sqliteOf(catalog).pragma("foreign_keys", { simple: true }), 1);
    } finally {
      catalog.close();
    }
  });

  it("records migration 1 once, however often it is opened", () => {
    const path = join(dir, "again.db");
    openCatalog(path).close();
    openCatalog(path).close();
    const db = new Database(path);
    try {
      assert.deepEqual([...appliedVersions(db)], [1]);
      assert.deepEqual(migrate(db, MIGRATIONS), []);
      const later = [
        ...MIGRATIONS,
        { version: 2, description: "test", sql: ["CREATE TABLE IF NOT EXISTS extra (x)"], postgresql: [] },
      ];
      assert.deepEqual(migrate(db, later), [2]);
      assert.deepEqual(migrate(db, later), []);
    } finally {
      db.close();
    }
  });

  it("is readable by the sqlite3 command-line shell", async () => {
    const path = join(dir, "cli.db");
    const catalog = openCatalog(path);
    await catalog.upsertContainer({
      collection: "library",
      name: "busybox",
      tag: "latest",
      version: "ab".repeat(32),
      client: "docker",
      image: "/s/library/busybox/latest@x.sif",
      url: null,
      metrics: { type: "container" },
    });
    catalog.close();
    const out = sqliteCli(path, "PRAGMA integrity_check; SELECT uri, client, metrics FROM container;");
    assert.equal(out, `ok\nlibrary/busybox:latest@${"ab".repeat(32)}|docker|{"type": "container"}\n`);
  });
});

describe("openCatalog errors and modes", () => {
  it("requires the parent folder, with the original's message", () => {
    const missing = join(dir, "nope", "sub");
    assert.throws(
      () => openCatalog(join(missing, "sregistry.db")),
      (err: unknown) =>
        err instanceof SregistryError && err.message === `Database location ${missing} does not exist.`,
    );
  });

  it("readonly opens an existing database without writing to it", async () => {
    const path = join(dir, "ro.db");
    sqliteCli(path, ORIGINAL_DDL_SCRIPT + ORIGINAL_ROWS_SCRIPT);
    const catalog = openCatalog(path, { readonly: true });
    try {
      assert.equal((await catalog.listContainers()).length, 3);
      await assert.rejects(catalog.getOrCreateCollection("new"), /readonly/);
    } finally {
      catalog.close();
    }
    assert.equal(masterSql(path).has("sregistry_migrations"), false);
    assert.equal(sqliteCli(path, "PRAGMA journal_mode;"), "delete\n");
  });

  it("readonly on a missing file is a SregistryError", () => {
    assert.throws(() => openCatalog(join(dir, "missing.db"), { readonly: true }), SregistryError);
  });

  it("adopts a database the original created", async () => {
    const path = join(dir, "adopt.db");
    sqliteCli(path, ORIGINAL_DDL_SCRIPT + ORIGINAL_ROWS_SCRIPT);
    const catalog = openCatalog(path);
    try {
      assert.equal((await catalog.listContainers()).length, 3);
      assert.deepEqual([...appliedVersions(sqliteOf(catalog))], [1]);
    } finally {
      catalog.close();
    }
    assert.equal(masterSql(path).get("container"), ORIGINAL_CONTAINER_SQL);
    assert.match(execFileSync("sqlite3", [path, "PRAGMA journal_mode;"], { encoding: "utf8" }), /^wal/);
  });
});
