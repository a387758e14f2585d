/**
 * The published package holds runtime code only: builds with the build config (tsconfig.build.json)
 * into a scratch copy of the package, asks `npm pack --dry-run --json` what it would ship, and fails on
 * any compiled test, test helper (`*.testing.*`) or fixture.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/package-contents
 * ```
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const TEST_FILE = /(\.test\.|\.testing\.|\.fixture\.|(^|\/)test(ing)?\/|test-helpers|test-catalog)/;

interface PackEntry {
  path: string;
}

describe("npm pack contents", () => {
  let scratch = "";
  let files: string[] = [];

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "sregistry-pack-"));
    for (const name of ["package.json", "README.md"]) copyFileSync(join(repo, name), join(scratch, name));
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    execFileSync(
      process.execPath,
      [tsc, "-p", join(repo, "tsconfig.build.json"), "--outDir", join(scratch, "dist")],
      {
        stdio: "inherit",
      },
    );
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: scratch,
      encoding: "utf8",
    });
    const [pack] = JSON.parse(out) as [{ files: PackEntry[] }];
    files = pack.files.map((f) => f.path);
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("ships the CLI and the library entry point", () => {
    assert.ok(files.includes("dist/src/cli/main.js"), files.join("\n"));
    assert.ok(files.includes("dist/src/index.js"));
    assert.ok(files.includes("dist/src/index.d.ts"));
  });

  it("ships no test, test helper or fixture", () => {
    const leaked = files.filter((f) => TEST_FILE.test(f));
    assert.deepEqual(leaked, []);
  });

  it("ships nothing outside dist/src but the manifest and the readme", () => {
    const other = files.filter(
      (f) => !f.startsWith("dist/src/") && f !== "package.json" && f !== "README.md",
    );
    assert.deepEqual(other, []);
  });
});
