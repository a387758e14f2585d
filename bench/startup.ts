/**
 * `npm run bench:startup`: how long `sregistry version`, `images` (empty catalog) and `get` take
 * against `node -e 0`, in the same run: the runs are interleaved (one of each per round) so a
 * busy machine slows every case alike, and the median of each is reported with its ratio to
 * `node -e 0` (target: at most 2×; ARCHITECTURE.md, "Start-up"). HOME is a new empty folder.
 * Rounds: BENCH_STARTUP_RUNS (15), after 2 warm-up rounds.
 *
 * @example
 * ```sh
 * BENCH_STARTUP_RUNS=30 npm run bench:startup
 * ```
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const cli = fileURLToPath(new URL("../src/cli/sregistry.cjs", import.meta.url));
const TARGET = 2;

const CASES: [label: string, args: string[]][] = [
  ["node -e 0", ["-e", "0"]],
  ["sregistry version", [cli, "version"]],
  ["sregistry images", [cli, "images"]],
  ["sregistry get", [cli, "get", "library/none:latest"]],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const home = mkdtempSync(join(tmpdir(), "sregistry-startup-"));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home };
  try {
    const times = new Map<string, number[]>(CASES.map(([label]) => [label, []]));
    for (let round = -2; round < runs; round++) {
      for (const [label, args] of CASES) {
        const start = process.hrtime.bigint();
        spawnSync(process.execPath, args, { env, stdio: "ignore" });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (round >= 0) times.get(label)!.push(ms);
      }
    }
    const base = median(times.get("node -e 0")!);
    console.log(`start-up, median of ${runs} interleaved runs\n`);
    console.log("| command | median | fastest | ratio to node -e 0 |");
    console.log("|---|---|---|---|");
    for (const [label, values] of times) {
      const ratio = median(values) / base;
      const mark = label === "node -e 0" ? "" : ratio <= TARGET ? " (ok)" : ` (target <= ${TARGET}x)`;
      console.log(
        `| ${label} | ${median(values).toFixed(0)} ms | ${Math.min(...values).toFixed(0)} ms | ${ratio.toFixed(2)}x${mark} |`,
      );
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

main();
