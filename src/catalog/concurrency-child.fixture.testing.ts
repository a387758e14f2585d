/**
 * Child process for concurrency.test.ts: waits until a shared start time, opens (maybe creating) the
 * catalog and inserts rows one transaction at a time, racing a sibling process.
 *
 * @example
 * ```sh
 * node --import tsx src/catalog/concurrency-child.fixture.testing.ts /tmp/x/sregistry.db A 200 1700000000000
 * # with a statfs that reports NFS for every path (catalog-storage.test.ts):
 * node --import tsx src/catalog/concurrency-child.fixture.testing.ts /tmp/x/sregistry.db A 200 0 0x6969
 * ```
 */
import { openCatalog } from "./database.js";

const [dbPath = "", label = "A", countText = "200", startText = "0", fsType] = process.argv.slice(2);
const waitMs = Number(startText) - Date.now();
if (waitMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs);

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
