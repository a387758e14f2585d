#!/usr/bin/env node
// Reads the skips recorded by skip-reporter.mjs, prints each with its reason, and in CI fails the run
// when a skip is not listed in the allowed file: a CI machine that quietly stopped running the
// disk-preflight or rootless tests must turn red, not green.
// Allowed file: one `<test name> # <reason>` per line, matched exactly; lines starting with # are comments.
// Example: node scripts/skips.mjs skips.jsonl --ci --allowed .ci/allowed-skips.txt
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Skips recorded in `resultsFile`, e.g. [{ file: "src/x.test.ts", name: "mounts", reason: "needs root" }]. */
export function readSkips(resultsFile) {
  if (!existsSync(resultsFile)) return [];
  return readFileSync(resultsFile, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

/** Entries of an allowed-skips file as `name # reason` strings, e.g. ["mounts # needs root"]. */
export function readAllowed(allowedFile) {
  if (allowedFile === undefined || !existsSync(allowedFile)) return [];
  return readFileSync(allowedFile, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function describeSkip(skip) {
  const file = skip.file === "" ? "" : `${relative(process.cwd(), skip.file.replace(/^file:\/\//, ""))}: `;
  return `${file}${skip.name} # ${skip.reason === "" ? "(no reason given)" : skip.reason}`;
}

/**
 * Prints the skips and returns the exit status: 1 in CI when a skip is not allowed, or anywhere when
 * a skip gives no reason; 0 otherwise.
 * Example: checkSkips(readSkips("skips.jsonl"), { ci: process.env.CI === "true", allowed: [] })
 */
export function checkSkips(skips, { ci, allowed }) {
  const allowedSet = new Set(allowed);
  const refused = skips.filter((s) => s.reason === "" || (ci && !allowedSet.has(`${s.name} # ${s.reason}`)));
  console.log(`skipped tests: ${skips.length}`);
  for (const skip of skips) console.log(`  skipped ${describeSkip(skip)}`);
  for (const skip of refused) {
    const why = skip.reason === "" ? "a skip must say why" : "not listed in .ci/allowed-skips.txt";
    console.error(`ERROR skipped in ${ci ? "CI" : "this run"} (${why}): ${describeSkip(skip)}`);
  }
  return refused.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [resultsFile, ...rest] = process.argv.slice(2);
  const allowedAt = rest.indexOf("--allowed");
  const allowed = readAllowed(allowedAt === -1 ? undefined : rest[allowedAt + 1]);
  const ci = rest.includes("--ci") || process.env.CI === "true";
  process.exit(checkSkips(readSkips(resultsFile), { ci, allowed }));
}
