/**
 * What `npm run bench` runs: flags (`npm run bench -- --only=big --repeats=1`) or the same names
 * as BENCH_* variables (`BENCH_ONLY=big`), flags winning.
 *
 *   --only=big,many,startup,levels   scenarios (default all)
 *   --rows=default,nocache,gzip9,zstd,tar2sqfs,peer   pull rows per image (default all;
 *                      nocache = the default pull with SINGULARITY_DISABLE_CACHE=yes)
 *   --repeats=N        cold pulls per row and image (default 2; BENCH_MANY_REPEATS for the many-files image, default 1)
 *   --levels=1-9       gzip levels of the writer-alone table (e.g. 1,6,9)
 *   --startup-runs=N   runs per start-up command (default 11)
 *   --out=FILE         markdown results (default bench/results/<time>.md)
 * Sizes: BENCH_LAYERS (15), BENCH_LAYER_MB (40), BENCH_MANY_FILES (320000), BENCH_MANY_LAYERS (8).
 * Folders: BENCH_DIR (scratch, removed unless BENCH_KEEP), BENCH_IMAGES (generated layouts, kept:
 * generation is reproducible, so a kept layout is the same image).
 *
 * @example
 * ```ts
 * const options = benchOptions(["--only=startup"], {});
 * ```
 */
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SCENARIOS = ["big", "many", "startup", "levels"] as const;
export const ROWS = ["default", "nocache", "gzip9", "zstd", "tar2sqfs", "peer"] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type RowName = (typeof ROWS)[number];

export interface BenchOptions {
  scenarios: Set<Scenario>;
  rows: Set<RowName>;
  repeats: { big: number; many: number };
  levels: number[];
  startupRuns: number;
  layers: number;
  layerMb: number;
  manyFiles: number;
  manyLayers: number;
  dir: string;
  images: string;
  keep: boolean;
  out: string | undefined;
}

function pick<T extends string>(text: string | undefined, all: readonly T[], what: string): Set<T> {
  if (text === undefined || text === "" || text === "all") return new Set(all);
  const chosen = text.split(",").map((s) => s.trim());
  for (const name of chosen)
    if (!all.includes(name as T))
      throw new Error(`bench: unknown ${what} "${name}" (one of ${all.join(", ")})`);
  return new Set(chosen as T[]);
}

function levels(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const [from, to = from] = part.split("-").map(Number);
    for (let l = from!; l <= to!; l++) if (l >= 1 && l <= 9) out.push(l);
  }
  if (out.length === 0) throw new Error(`bench: --levels "${text}" names no gzip level 1–9`);
  return out;
}

function count(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`bench: ${what} must be a positive integer, not "${text}"`);
  return n;
}

export function benchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!match) throw new Error(`bench: unknown argument "${arg}" (use --name=value)`);
    flags.set(match[1]!, match[2]!);
  }
  const get = (flag: string): string | undefined =>
    flags.get(flag) ?? env[`BENCH_${flag.toUpperCase().replace(/-/g, "_")}`];
  const repeats = count(get("repeats"), 2, "--repeats");
  return {
    scenarios: pick(get("only"), SCENARIOS, "scenario"),
    rows: pick(get("rows"), ROWS, "row"),
    repeats: {
      big: repeats,
      many: count(env.BENCH_MANY_REPEATS, get("repeats") === undefined ? 1 : repeats, "BENCH_MANY_REPEATS"),
    },
    levels: levels(get("levels") ?? "1-9"),
    startupRuns: count(get("startup-runs"), 11, "--startup-runs"),
    layers: count(env.BENCH_LAYERS, 15, "BENCH_LAYERS"),
    layerMb: count(env.BENCH_LAYER_MB, 40, "BENCH_LAYER_MB"),
    manyFiles: count(env.BENCH_MANY_FILES, 320_000, "BENCH_MANY_FILES"),
    manyLayers: count(env.BENCH_MANY_LAYERS, 8, "BENCH_MANY_LAYERS"),
    dir: env.BENCH_DIR ?? join(tmpdir(), "sregistry-bench"),
    images: env.BENCH_IMAGES ?? join(tmpdir(), "sregistry-bench-images"),
    keep: Boolean(env.BENCH_KEEP),
    out: get("out"),
  };
}
