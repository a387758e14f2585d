#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner, TypeScript loaded by tsx.
// `--unit` limits the run to src/ (no registry servers needed); extra arguments filter file paths.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureTools } from "./ensure-tools.mjs";

const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filters = args.filter((a) => !a.startsWith("--"));

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

if (!unitOnly) ensureTools();
const roots = unitOnly ? ["src"] : ["src", "test"];
const files = roots
  .flatMap(findTests)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
