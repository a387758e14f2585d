// 16 processes × 50 adds and removes against one PostgreSQL catalog, all starting at once on a
// database nobody has used yet (so they also race to create the tables): no error, and exactly the
// rows and collections the sequence of operations leaves.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { postgresBinDir } from "../../test/harness/postgres.js";
import { postgresForFile } from "./backends.testing.js";
import { Catalog } from "./catalog.js";
import { PostgresDriver } from "./postgres-driver.js";
import { parsePostgresUrl } from "./postgres-url.js";
import { runTogether } from "./barrier.testing.js";

const CHILD = fileURLToPath(new URL("./add-remove.fixture.testing.ts", import.meta.url));
const PROCESSES = 16;
const OPERATIONS = 50;

describe(
  "PostgreSQL catalog under concurrent writers",
  { skip: postgresBinDir() === undefined && "PostgreSQL is not installed" },
  () => {
    const server = postgresForFile();

    it(
      `${PROCESSES} processes × ${OPERATIONS} adds/removes: no error, consistent rows`,
      { timeout: 600_000 },
      async () => {
        const url = await server().createDatabase("race");
        const labels = Array.from({ length: PROCESSES }, (_, i) => `p${i}`);
        const results = await runTogether(
          CHILD,
          labels.map((label) => [url, label, String(OPERATIONS)]),
        );
        for (const result of results) {
          assert.equal(result.stderr, "");
          assert.equal(result.stdout, "done\n");
          assert.equal(result.code, 0);
        }
        const catalog = new Catalog(
          new PostgresDriver(parsePostgresUrl(url, { env: {}, home: "/nonexistent" })),
        );
        try {
          const rows = await catalog.listContainers();
          const expected = labels.flatMap((label) =>
            Array.from({ length: OPERATIONS }, (_, i) => i)
              .filter((i) => i % 2 === 0)
              .map((i) => `c${i % 5}/${label}-${i}:latest@${i}`),
          );
          assert.deepEqual(rows.map((r) => r.uri).sort(), expected.sort());
          const collections = await catalog.driver.all<{ name: string; n: string }>(
            "SELECT collection.name, count(container.id) AS n FROM collection LEFT JOIN container ON container.collection_id = collection.id GROUP BY collection.name ORDER BY collection.name",
          );
          assert.deepEqual(
            collections.map((c) => c.name),
            ["c0", "c1", "c2", "c3", "c4"],
          );
          assert.ok(
            collections.every((c) => Number(c.n) > 0),
            "no empty collection left behind",
          );
          const migrations = await catalog.driver.all<{ version: number }>(
            "SELECT version FROM sregistry_migrations",
          );
          assert.deepEqual(migrations, [{ version: 1 }]);
        } finally {
          await catalog.close();
        }
      },
    );
  },
);
