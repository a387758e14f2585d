/**
 * Pins the decisions on the differences from sregistry-cli 0.2.39 that scripts can see (README,
 * "Coming from sregistry-cli"; ARCHITECTURE, deliberate differences): where the catalog lives
 * (HOME, SREGISTRY_DATABASE), what `--debug` says, local commands without credentials, and the
 * collection rows left by rename.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tinySif } from "../../src/image/sif/tiny-sif.testing.js";
import { isolatedEnv, runCliInProcess } from "../harness/cli.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { databaseEnv, sqlOutside } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

const dirs: TmpDir[] = [];
after(() => Promise.all(dirs.map((d) => d.cleanup())));

async function home(): Promise<string> {
  const dir = await tmpDir("sregistry-compat-");
  dirs.push(dir);
  return dir.path;
}

function image(dir: string, content: string): string {
  const path = join(dir, `${content}.sif`);
  writeFileSync(path, tinySif(content));
  return path;
}

// SQLite only: where the catalog file lives and what --debug says of it.
test("HOME counts: with only HOME set, catalog, storage and secrets live under it", async () => {
  const dir = await home();
  const env = { HOME: dir, PATH: process.env.PATH ?? "" };
  const added = await runCliInProcess(["add", image(dir, "h"), "--name", "c/h:1"], env);
  assert.equal(added.code, 0, added.stderr);
  assert.ok(existsSync(join(dir, ".singularity", "sregistry.db")));
  const get = await runCliInProcess(["get", "c/h:1"], env);
  assert.match(
    get.stdout,
    new RegExp(`^${join(dir, ".singularity", "shub", "c", "h")}/1@[0-9a-f]{64}\\.sif\\n$`),
  );
  assert.equal((await runCliInProcess(["backend", "activate", "docker"], env)).code, 0);
  assert.ok(existsSync(join(dir, ".sregistry")));
});

test("SREGISTRY_DATABASE naming a missing folder: the folder is created, mode 0700 (the original refused)", async () => {
  const dir = await home();
  const fresh = join(dir, "scratch", "db");
  const result = await runCliInProcess(["images"], { ...isolatedEnv(dir), SREGISTRY_DATABASE: fresh });
  assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
  assert.ok(existsSync(join(fresh, "sregistry.db")));
  assert.equal(statSync(fresh).mode & 0o777, 0o700);
  const debug = await runCliInProcess(["--debug", "images"], {
    ...isolatedEnv(dir),
    SREGISTRY_DATABASE: fresh,
  });
  assert.match(
    debug.stderr,
    new RegExp(`^DEBUG Database located at sqlite:///${join(fresh, "sregistry.db")}\n`),
  );
});

test("--debug images says which catalog is used (never a secret)", async () => {
  const dir = await home();
  const env = isolatedEnv(dir);
  writeFileSync(
    env.SREGISTRY_CLIENT_SECRETS!,
    JSON.stringify({ nvidia: { SREGISTRY_NVIDIA_TOKEN: "nvapi-do-not-show" } }),
  );
  const result = await runCliInProcess(["--debug", "images"], env);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "");
  const lines = result.stderr.split("\n").filter(Boolean);
  assert.deepEqual(lines.slice(0, 3), [
    `DEBUG Database located at sqlite:///${join(dir, ".singularity", "sregistry.db")}`,
    `DEBUG Storage folder ${join(dir, ".singularity", "shub")}`,
    `DEBUG Secrets file ${env.SREGISTRY_CLIENT_SECRETS}, client hub`,
  ]);
  // Then the journal mode chosen for the catalog's filesystem (WAL locally, rollback on NFS & co).
  assert.match(lines[3] ?? "", /^DEBUG catalog .*sregistry\.db: journal (wal|delete) \(/);
  assert.equal(lines.length, 4);
  assert.doesNotMatch(result.stderr, /nvapi-do-not-show/);
  assert.equal((await runCliInProcess(["images"], env)).stderr, "", "nothing without --debug");
});

// Catalog behaviours, on each engine.
forEachBackend((backend) => {
  test("SREGISTRY_CLIENT=nvidia without a token: local commands work (the original refused)", async () => {
    const dir = await home();
    const env = { ...isolatedEnv(dir), ...(await databaseEnv(backend)) };
    mkdirSync(join(dir, ".singularity"), { recursive: true });
    assert.equal((await runCliInProcess(["add", image(dir, "n"), "--name", "c/n:1"], env)).code, 0);
    const images = await runCliInProcess(["images"], { ...env, SREGISTRY_CLIENT: "nvidia" });
    assert.equal(images.code, 0, images.stderr);
    assert.match(images.stdout, /\[hub\]\tc\/n:1@[0-9a-f]{64}\n$/);
    const record = await runCliInProcess(["--quiet", "record", "caffe2:17.10"], {
      ...env,
      SREGISTRY_CLIENT: "nvidia",
    });
    assert.equal(record.code, 1, "a registry command still needs the token");
  });

  test("rename of a collection's last image removes the empty collection row (the original kept it)", async () => {
    const dir = await home();
    const env = { ...isolatedEnv(dir), ...(await databaseEnv(backend)) };
    assert.equal((await runCliInProcess(["add", image(dir, "r"), "--name", "old/r:1"], env)).code, 0);
    const renamed = await runCliInProcess(["--quiet", "rename", "old/r:1", "new/r:1"], env);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal(sqlOutside(env, "SELECT name FROM collection ORDER BY id"), "new\n");
  });
});
