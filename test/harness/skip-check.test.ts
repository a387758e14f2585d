// Self-test of the test harness (not of sregistry): a skip is recorded with its reason, fails the
// check in CI unless the allowed-skips file lists it, and passes once listed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const scripts = fileURLToPath(new URL("../../scripts/", import.meta.url));
const fixture = fileURLToPath(new URL("./skip-check.fixture.testing.ts", import.meta.url));
// Inside `node --test`, NODE_TEST_CONTEXT makes a nested runner report to its parent instead of
// using the reporters it is given; the fixture run needs a runner of its own.
const { NODE_TEST_CONTEXT: _parentContext, ...ownEnv } = process.env;

function check(results: string, ci: boolean, allowed?: string) {
  const args = [
    join(scripts, "skips.mjs"),
    results,
    ...(allowed === undefined ? [] : ["--allowed", allowed]),
  ];
  return spawnSync(process.execPath, args, {
    encoding: "utf8",
    env: { ...process.env, CI: ci ? "true" : "" },
  });
}

describe("harness: skipped tests are reported and refused in CI", () => {
  let dir = "";
  let results = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sregistry-skipcheck-"));
    results = join(dir, "skips.jsonl");
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--test",
        `--test-reporter=${join(scripts, "skip-reporter.mjs")}`,
        `--test-reporter-destination=${results}`,
        fixture,
      ],
      { encoding: "utf8", env: ownEnv },
    );
    assert.equal(run.status, 0, run.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("outside CI lists the skip with its reason and passes", () => {
    const result = check(results, false);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /skipped tests: 1\n/);
    assert.match(result.stdout, /needs a machine this is not # fixture: always skipped/);
  });

  it("in CI fails with one line naming the unlisted skip", () => {
    const result = check(results, true, join(dir, "missing.txt"));
    assert.equal(result.status, 1);
    const errors = result.stderr.trim().split("\n");
    assert.equal(errors.length, 1, result.stderr);
    assert.match(
      errors[0] ?? "",
      /^ERROR skipped in CI .*needs a machine this is not # fixture: always skipped$/,
    );
  });

  it("in CI passes when the skip is listed as allowed", () => {
    const allowed = join(dir, "allowed.txt");
    writeFileSync(
      allowed,
      "# why: the fixture always skips\nneeds a machine this is not # fixture: always skipped\n",
    );
    const result = check(results, true, allowed);
    assert.equal(result.status, 0, result.stderr);
  });

  it("in CI still fails when the listed reason differs", () => {
    const allowed = join(dir, "other-reason.txt");
    writeFileSync(allowed, "needs a machine this is not # some other reason\n");
    assert.equal(check(results, true, allowed).status, 1);
  });
});
