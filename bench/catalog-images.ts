/**
 * `npm run bench:catalog`: how long `images` takes on a catalog of 10,000 rows, SQLite and
 * PostgreSQL (a throw-away server from test/harness/postgres.ts; skipped when not installed).
 * Times the command's work in one process — open the catalog, read every row ("the catalog"),
 * build the table — and prints the medians of 5 runs (the target is ≤ 0.3 s). Rows: BENCH_CATALOG_ROWS (10000).
 *
 * @example
 * ```sh
 * npm run bench:catalog
 * # sqlite      10000 rows  images 0.400 s, of which the catalog 0.120 s (median of 5; target 0.3 s)
 * ```
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { postgresBinDir, startPostgres } from "../test/harness/postgres.js";
import { Context } from "../src/api/context.js";
import { imageSummaries } from "../src/api/images.js";
import { imagesTable } from "../src/cli/rows.js";

const ROWS = Number(process.env.BENCH_CATALOG_ROWS ?? 10_000);
const RUNS = 5;

/** Fills an empty catalog with `ROWS` rows in 10 collections, in batches of one INSERT each. */
async function fill(ctx: Context): Promise<void> {
  const catalog = ctx.catalog();
  for (let c = 0; c < 10; c++) await catalog.getOrCreateCollection(`collection${c}`);
  const metrics = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
  });
  for (let start = 0; start < ROWS; start += 500) {
    const values: string[] = [];
    for (let i = start; i < Math.min(ROWS, start + 500); i++) {
      const version = i.toString(16).padStart(64, "0");
      values.push(
        `('2026-11-30 12:00:00', '${metrics}', 'image${i}', 'latest', '/storage/collection${i % 10}/image${i}/latest@${version}.sif', ` +
          `NULL, 'collection${i % 10}/image${i}:latest@${version}', 'docker', '${version}', ${(i % 10) + 1})`,
      );
    }
    await catalog.driver.run(
      `INSERT INTO container (created_at, metrics, name, tag, image, url, uri, client, version, collection_id) VALUES ${values.join(", ")}`,
    );
  }
}

async function measure(label: string, env: Record<string, string>, home: string): Promise<void> {
  const setup = new Context({ env, home });
  await fill(setup);
  setup.close();
  const total: number[] = [];
  const query: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const ctx = new Context({ env, home });
    const rows = await imageSummaries(ctx);
    query.push((performance.now() - started) / 1000);
    const table = imagesTable(rows, { color: false });
    total.push((performance.now() - started) / 1000);
    if (rows.length !== ROWS || String(table).length === 0) throw new Error(`${label}: ${rows.length} rows`);
    await ctx.catalog().close();
  }
  console.log(
    `${label.padEnd(11)} ${ROWS} rows  images ${median(total).toFixed(3)} s, of which the catalog ` +
      `${median(query).toFixed(3)} s (median of ${RUNS}; target 0.3 s)`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sregistry-bench-catalog-"));
  try {
    const base = { SREGISTRY_STORAGE: join(dir, "shub"), SREGISTRY_CLIENT_SECRETS: join(dir, "secrets") };
    await measure("sqlite", { ...base, SREGISTRY_DATABASE: join(dir, "db") }, dir);
    if (postgresBinDir() === undefined) {
      console.log("postgresql  skipped: PostgreSQL is not installed");
      return;
    }
    const server = await startPostgres();
    try {
      const url = await server.createDatabase("bench");
      await measure("postgresql", { ...base, SREGISTRY_DATABASE: url }, dir);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
