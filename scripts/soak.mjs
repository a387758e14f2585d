#!/usr/bin/env node
// Runs the whole test suite (`npm test`) several times in a row while a CPU-heavy neighbour runs,
// to show the suite does not depend on a quiet machine: `npm run test:soak -- --runs=5`.
// The neighbour is a child process hashing a 64 MiB buffer in a loop (one core busy the whole
// time, plus memory traffic); `--neighbours=N` starts N of them, `--neighbours=0` none. The run
// stops at the first failing suite. The summary gives each run's exit status, wall time, test
// counts and the 1-minute load average (os.loadavg, sampled every 5 s) seen during it.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { setInterval, clearInterval } from "node:timers";

const options = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith("--"))
    .map((a) => a.slice(2).split("=")),
);
const runs = Number(options.runs ?? 5);
const neighbourCount = Number(options.neighbours ?? 1);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(neighbourCount) || neighbourCount < 0) {
  console.error("soak: --runs must be a positive integer and --neighbours a non-negative one");
  process.exit(2);
}

const NEIGHBOUR = `
const { createHash, randomFillSync } = require("node:crypto");
const buffer = randomFillSync(Buffer.alloc(64 * 1024 * 1024));
for (;;) createHash("sha256").update(buffer).digest();
`;

function startNeighbours() {
  return Array.from({ length: neighbourCount }, () =>
    spawn(process.execPath, ["-e", NEIGHBOUR], { stdio: "ignore" }),
  );
}

/** Runs `npm test` once, echoing its output, and returns what the summary needs. */
function runSuite() {
  return new Promise((resolve) => {
    const started = Date.now();
    const loads = [];
    const sampler = setInterval(() => loads.push(loadavg()[0]), 5000);
    let tail = "";
    const child = spawn("npm", ["test"], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on("close", (code) => {
      clearInterval(sampler);
      const count = (name) => Number(new RegExp(`ℹ ${name} (\\d+)`).exec(tail)?.[1] ?? NaN);
      resolve({
        code,
        minutes: (Date.now() - started) / 60000,
        tests: count("tests"),
        pass: count("pass"),
        fail: count("fail"),
        skipped: count("skipped"),
        loadMin: Math.min(...loads),
        loadMax: Math.max(...loads),
      });
    });
  });
}

const neighbours = startNeighbours();
const stopNeighbours = () => neighbours.forEach((n) => n.kill("SIGKILL"));
process.on("exit", stopNeighbours);
process.on("SIGINT", () => process.exit(130));

const results = [];
for (let i = 1; i <= runs; i += 1) {
  console.log(`soak: run ${i} of ${runs} with ${neighbourCount} CPU-heavy neighbour(s)`);
  const result = await runSuite();
  results.push(result);
  if (result.code !== 0) break;
}
stopNeighbours();

console.log("\nsoak summary (load = 1-minute load average during the run, 2-core machine in CI)");
results.forEach((r, i) =>
  console.log(
    `run ${i + 1}: exit ${r.code}, ${r.minutes.toFixed(1)} min, ` +
      `${r.tests} tests, ${r.pass} passed, ${r.fail} failed, ${r.skipped} skipped, ` +
      `load ${r.loadMin.toFixed(1)}–${r.loadMax.toFixed(1)}`,
  ),
);
const failed = results.some((r) => r.code !== 0);
console.log(failed ? "soak: a run failed" : `soak: ${runs} runs in a row passed`);
process.exit(failed ? 1 : 0);
