/**
 * Child process for concurrency.test.ts: says ready and waits for the parent's go (barrier.testing.ts), opens (maybe creating) the
 * catalog and inserts rows one transaction at a time, racing a sibling process.
 *
 * @example
 * ```sh
 * node --import tsx src/catalog/concurrency-child.fixture.testing.ts /tmp/x/sregistry.db A 200
 * # with a statfs that reports NFS for every path (catalog-storage.test.ts):
 * node --import tsx src/catalog/concurrency-child.fixture.testing.ts /tmp/x/sregistry.db A 200 0x6969
 * ```
 */
import { waitForGo } from "./barrier.testing.js";
import { openCatalog } from "./database.js";

const [dbPath = "", label = "A", countText = "200", fsType] = process.argv.slice(2);
await waitForGo();

const catalog = openCatalog(dbPath, fsType ? { statfs: () => ({ type: Number(fsType) }) } : {});
for (let i = 0; i < Number(countText); i++) {
  await catalog.upsertContainer({
    collection: `c${i % 5}`,
    name: `${label.toLowerCase()}-${i}`,
    tag: "latest",
    version: "",
    client: "docker",
    image: null,
    url: null,
    metrics: { writer: label, i },
  });
  if (i % 10 === 0) await catalog.listContainers(label);
}
catalog.close();
process.stdout.write("done\n");
