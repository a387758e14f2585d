/**
 * The rooms rule (ARCHITECTURE.md): a folder under src/ imports only from its own folder and from
 * folders below it, in this order, lowest first. Every relative import of every runtime module is
 * read and checked; tests and test helpers (`*.test.ts`, `*.testing.ts`) may use any room.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs src/layering
 * ```
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

/** Lowest first. `src/version.ts` counts as the bottom, `src/index.ts` as the top. */
export const ROOMS = [
  "util",
  "oci",
  "reference",
  "config",
  "registry",
  "cache",
  "catalog",
  "image",
  "push",
  "pull",
  "api",
  "pyxis",
  "cli",
] as const;

const SRC = dirname(fileURLToPath(import.meta.url));
const IMPORT =
  /(?:^|[\s;}])(?:import|export)\s(?:[^"';]*?\sfrom\s)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function runtimeModules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return runtimeModules(path);
    const isTest = entry.name.endsWith(".test.ts") || entry.name.endsWith(".testing.ts");
    return entry.name.endsWith(".ts") && !isTest ? [path] : [];
  });
}

/** The room's rank: -1 for version.ts, ROOMS.length for index.ts, undefined for an unknown folder. */
function rank(file: string): number | undefined {
  const parts = relative(SRC, file).split(sep);
  if (parts.length === 1) return parts[0] === "index.ts" ? ROOMS.length : -1;
  const index = (ROOMS as readonly string[]).indexOf(parts[0]!);
  return index < 0 ? undefined : index;
}

function roomName(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? `src/${parts[0]}` : parts[0]!;
}

/** Every relative import of `file`, resolved to the .ts file it names. */
export function importsOf(source: string, file: string): string[] {
  const out: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]!;
    if (spec.startsWith(".")) out.push(resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
  }
  return out;
}

/** "a/b.ts (pull) imports c/d.ts (api)" for every import into a higher room. */
export function upwardImports(files: readonly string[], read: (file: string) => string): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const own = rank(file);
    if (own === undefined) {
      problems.push(`${relative(SRC, file)} is in no room: add its folder to ROOMS and ARCHITECTURE.md`);
      continue;
    }
    for (const target of importsOf(read(file), file)) {
      const theirs = rank(target);
      if (theirs === undefined || theirs > own) {
        problems.push(
          `${relative(SRC, file)} (${roomName(file)}) imports ${relative(SRC, target)} (${roomName(target)})`,
        );
      }
    }
  }
  return problems;
}

describe("rooms", () => {
  it("no runtime module imports from a room above its own", () => {
    const files = runtimeModules(SRC);
    assert.ok(files.length > 50, `found only ${files.length} modules under ${SRC}`);
    assert.deepEqual(
      upwardImports(files, (f) => readFileSync(f, "utf8")),
      [],
    );
  });

  it("sees static, re-export, side-effect and dynamic imports", () => {
    const file = join(SRC, "cache", "x.ts");
    const source = [
      'import { a } from "../util/a.js";',
      'import type { B } from "../api/b.js";',
      'export { c } from "../cli/c.js";',
      'import "../pull/d.js";',
      'const e = await import("../image/e.js");',
      'import { f } from "node:fs";',
    ].join("\n");
    assert.deepEqual(
      upwardImports([file], () => source),
      [
        "cache/x.ts (cache) imports api/b.ts (api)",
        "cache/x.ts (cache) imports cli/c.ts (cli)",
        "cache/x.ts (cache) imports pull/d.ts (pull)",
        "cache/x.ts (cache) imports image/e.ts (image)",
      ],
    );
  });
});
