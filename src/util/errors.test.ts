import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { SregistryError, type ErrorCode } from "./errors.js";

const SRC = fileURLToPath(new URL("../", import.meta.url));
const CHANGELOG = readFileSync(new URL("../../CHANGELOG.md", import.meta.url), "utf8");

/** The near-synonyms of 0.3, merged in 0.4: old code → the one code that replaced it. */
const MERGED_IN_0_4: Record<string, ErrorCode> = {
  RANGE: "BAD_RANGE",
  UNSUPPORTED_CLIENT: "BAD_CLIENT",
  NO_FILE: "NOT_FOUND",
  NOT_A_FILE: "NOT_FOUND",
  NO_DIRECTORY: "NOT_WRITABLE",
  CACHE_WRITE: "NOT_WRITABLE",
  SANDBOX_WRITE: "NOT_WRITABLE",
  OUTPUT: "IO",
  BAD_IMAGE: "NOT_AN_IMAGE",
  NO_SECRETS: "SECRETS",
  NO_TOKEN: "CREDENTIALS",
  NO_DATABASE_DIR: "DATABASE",
  PUSH_DENIED: "FORBIDDEN",
  CONFIG: "BAD_SETTING",
  BAD_URI: "BAD_REFERENCE",
  INVALID_ARGUMENT: "USAGE",
  DOWNLOAD_FAILED: "NETWORK",
};
const errorsSource = readFileSync(new URL("./errors.ts", import.meta.url), "utf8");

function unionMembers(): Set<string> {
  const union = errorsSource.slice(errorsSource.indexOf("export type ErrorCode ="));
  const body = union.slice(0, union.indexOf(";"));
  return new Set([...body.matchAll(/"([A-Z_0-9]+)"/g)].map((m) => m[1]!));
}

function runtimeSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return runtimeSources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".testing.ts")
      ? [path]
      : [];
  });
}

describe("ErrorCode", () => {
  it("defaults to ERROR and is typed", () => {
    const code: ErrorCode = new SregistryError("x").code;
    assert.equal(code, "ERROR");
  });

  it("documents every code of the union in the table, and nothing else", () => {
    const table = errorsSource.slice(0, errorsSource.indexOf("export type ErrorCode ="));
    const documented = new Set(
      [...table.matchAll(/^ \* \| ([^|]+) \|/gm)].flatMap((m) =>
        [...m[1]!.matchAll(/`([A-Z_0-9]+)`/g)].map((c) => c[1]!),
      ),
    );
    assert.deepEqual([...documented].sort(), [...unionMembers()].sort());
  });

  it("lists every code the runtime code throws", () => {
    const members = unionMembers();
    const used = new Set<string>();
    for (const file of runtimeSources(SRC)) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/new SregistryError\([\s\S]{0,400}?\{\s*code: "([A-Z_0-9]+)"/g))
        used.add(m[1]!);
    }
    assert.ok(used.size > 30, `found only ${used.size} codes`);
    assert.deepEqual(
      [...used].filter((c) => !members.has(c)),
      [],
    );
  });

  it("has one code per condition: the merged near-synonyms are gone and listed in CHANGELOG.md", () => {
    const members = unionMembers();
    for (const [old, now] of Object.entries(MERGED_IN_0_4)) {
      assert.ok(!members.has(old), `${old} is still in the union`);
      assert.ok(members.has(now), `${now} is not in the union`);
      assert.match(
        CHANGELOG,
        new RegExp("`" + old + "` → `" + now + "`"),
        `${old} missing from CHANGELOG.md`,
      );
      for (const file of runtimeSources(SRC))
        assert.ok(!readFileSync(file, "utf8").includes(`"${old}"`), `${file} still uses "${old}"`);
    }
  });
});
