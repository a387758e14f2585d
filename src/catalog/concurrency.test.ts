import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { openCatalog, sqliteOf } from "./database.js";
import { makeTempDir } from "./catalog.testing.js";

const CHILD = fileURLToPath(new URL("./concurrency-child.fixture.testing.ts", import.meta.url));

let dir: string;
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("two processes writing at once", () => {
  it("create the database and insert 200 rows each without 'database is locked'", async () => {
    const dbPath = join(dir, "sregistry.db");
    const startAt = String(Date.now() + 1500);
    const results = await Promise.all([
      runChild([dbPath, "A", "200", startAt]),
      runChild([dbPath, "B", "200", startAt]),
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
