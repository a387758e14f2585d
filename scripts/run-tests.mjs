#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner, TypeScript loaded by tsx.
// `--unit` limits the run to src/ (no registry servers needed); extra arguments filter file paths.
// Every skipped test is listed with its reason at the end; with CI=true (set by .ci/run) a skip not
// listed in .ci/allowed-skips.txt fails the run (scripts/skips.mjs).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTools } from "./ensure-tools.mjs";
import { checkSkips, readAllowed, readSkips } from "./skips.mjs";

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
const skipDir = mkdtempSync(join(tmpdir(), "sregistry-skips-"));
const skipFile = join(skipDir, "skips.jsonl");
const reporter = fileURLToPath(new URL("./skip-reporter.mjs", import.meta.url));
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${skipFile}`,
    ...files,
  ],
  { stdio: "inherit" },
);
const allowed = readAllowed(fileURLToPath(new URL("../.ci/allowed-skips.txt", import.meta.url)));
const skipStatus = checkSkips(readSkips(skipFile), { ci: process.env.CI === "true", allowed });
rmSync(skipDir, { recursive: true, force: true });
process.exit((result.status ?? 1) || skipStatus);
