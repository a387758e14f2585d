/**
 * Child process for postgres-concurrency.test.ts: opens the catalog named by a
 * `SREGISTRY_DATABASE`-style value (a PostgreSQL URL, or a folder holding sregistry.db), says ready
 * and waits for the parent's go (barrier.testing.ts), then adds `count` rows one write at a time and removes every second
 * one right after adding it (row, then its collection when left empty, in one transaction), as
 * `add` and `rm` do. Prints "done" or the first error.
 *
 * @example
 * ```sh
 * node --import tsx src/catalog/add-remove.fixture.testing.ts postgresql://u:p@127.0.0.1:5432/db A 50
 * ```
 */
import { join } from "node:path";
import { waitForGo } from "./barrier.testing.js";
import { connectCatalog } from "./connect.js";
import { isPostgresUrl } from "./postgres-url.js";

const [target = "", label = "A", countText = "50"] = process.argv.slice(2);
await waitForGo();

const catalog = connectCatalog(
  isPostgresUrl(target)
    ? { databaseUrl: target, databasePath: "", home: "/nonexistent" }
    : { databasePath: join(target, "sregistry.db"), home: "/nonexistent" },
  {},
);
try {
  for (let i = 0; i < Number(countText); i++) {
    const { row } = await catalog.upsertContainer({
      collection: `c${i % 5}`,
      name: `${label.toLowerCase()}-${i}`,
      tag: "latest",
      version: String(i),
      client: "docker",
      image: `/storage/${label}/${i}.sif`,
      url: null,
      metrics: { writer: label, i },
    });
    if (i % 2 === 1) {
      await catalog.transaction(async (tx) => {
        const found = await tx.getContainerById(row.id);
        if (!found) throw new Error(`row ${row.id} vanished`);
        await tx.deleteContainer(found.id);
        await tx.deleteCollectionIfEmpty(found.collection_id);
      });
    }
    if (i % 10 === 0) await catalog.listContainers(label);
  }
  process.stdout.write("done\n");
} catch (err) {
  process.stdout.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await catalog.close();
}
