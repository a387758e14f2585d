import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { openCatalog, sqliteOf } from "./database.js";
import { makeTempDir } from "./catalog.testing.js";
import { runTogether } from "./barrier.testing.js";

const CHILD = fileURLToPath(new URL("./concurrency-child.fixture.testing.ts", import.meta.url));

let dir: string;
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("two processes writing at once", () => {
  it("create the database and insert 200 rows each without 'database is locked'", async () => {
    const dbPath = join(dir, "sregistry.db");
    const results = await runTogether(CHILD, [
      [dbPath, "A", "200"],
      [dbPath, "B", "200"],
    ]);
    for (const result of results) {
      assert.equal(result.stderr, "");
      assert.equal(result.stdout, "done\n");
      assert.equal(result.code, 0);
    }
    const catalog = openCatalog(dbPath);
    try {
      const rows = await catalog.listContainers();
      assert.equal(rows.length, 400);
      assert.equal(new Set(rows.map((r) => r.uri)).size, 400);
      assert.deepEqual(sqliteOf(catalog).prepare("SELECT count(*) AS n FROM collection").get(), { n: 5 });
      assert.deepEqual(sqliteOf(catalog).prepare("SELECT count(*) AS n FROM sregistry_migrations").get(), {
        n: 1,
      });
    } finally {
      catalog.close();
    }
  });
});
