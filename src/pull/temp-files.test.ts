import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  buildDirectory,
  buildTempPath,
  removeStaleBuilds,
  removeStaleBuildsSync,
  removeTree,
} from "./temp-files.js";

describe("build temporaries", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "temp-files-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names temporaries after this host and process, hidden, next to the target", () => {
    const path = buildTempPath(dir, ".sif");
    assert.equal(join(path, ".."), dir);
    assert.match(basename(path), new RegExp(`^\\.sregistry-build-.+-${process.pid}-[0-9a-f]{12}\\.sif$`));
    assert.notEqual(buildTempPath(dir, ".sif"), path);
  });

  it("removes what dead processes left, keeps live ones and other files", async () => {
    const host = hostname().replace(/[^A-Za-z0-9.]/g, "_");
    const mine = buildTempPath(dir, ".sif");
    const dead = join(dir, `.sregistry-build-${host}-999999999-abcdef012345.sif`);
    const deadTool = join(dir, `..sregistry-build-${host}-999999999-abcdef012345.sif.77.sqfs`);
    const deadSandbox = join(dir, `.sregistry-build-${host}-999999999-abcdef012345.sandbox`);
    for (const file of [mine, dead, deadTool, join(dir, "image.sif")]) await writeFile(file, "x");
    await mkdir(join(deadSandbox, "ro", "inner"), { recursive: true });
    await chmod(join(deadSandbox, "ro"), 0o500);
    const removed = await removeStaleBuilds(dir);
    assert.deepEqual(removed.sort(), [dead, deadTool, deadSandbox].sort());
    assert.deepEqual((await readdir(dir)).sort(), [basename(mine), "image.sif"].sort());
  });

  it("removeTree deletes trees with read-only directories", async () => {
    const tree = join(dir, "tree");
    await mkdir(join(tree, "a", "b"), { recursive: true });
    await writeFile(join(tree, "a", "b", "f"), "x");
    await chmod(join(tree, "a"), 0o500);
    await removeTree(tree);
    assert.equal(existsSync(tree), false);
  });
});

describe("build directory", () => {
  it("is cleaned synchronously of dead processes' files only (any command does it at start)", async () => {
    const storage = await mkdtemp(join(tmpdir(), "build-dir-test-"));
    try {
      const dir = buildDirectory(storage);
      assert.equal(dir, join(storage, ".sregistry-tmp"));
      await mkdir(dir);
      const host = hostname().replace(/[^A-Za-z0-9.]/g, "_");
      const dead = join(dir, `.sregistry-build-${host}-999999999-abcdef012345.sif`);
      const deadTool = join(dir, `..sregistry-build-${host}-999999999-abcdef012345.sif.999999999.sqfs`);
      const live = buildTempPath(dir, ".sif");
      const lock = join(dir, `build-${"0".repeat(64)}.lock`);
      for (const file of [dead, deadTool, live, lock]) await writeFile(file, "x");
      assert.deepEqual(removeStaleBuildsSync(dir).sort(), [dead, deadTool].sort());
      assert.deepEqual((await readdir(dir)).sort(), [basename(live), basename(lock)].sort());
      assert.deepEqual(removeStaleBuildsSync(join(storage, "missing")), []);
    } finally {
      await rm(storage, { recursive: true, force: true });
    }
  });
});
