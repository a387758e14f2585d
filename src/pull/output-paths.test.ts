import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SregistryError } from "../util/errors.js";
import { checkOutputFile, checkPathLength, checkWritableDir, placeCopy } from "./output-paths.js";

function failsWith(pattern: RegExp) {
  return (err: unknown) => err instanceof SregistryError && pattern.test(err.message);
}

describe("output paths", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "output-paths-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("accepts a new file in a writable folder, even one still to be created", async () => {
    await checkOutputFile(join(dir, "new.sif"), "--name");
    await checkOutputFile(join(dir, "a", "b", "new.sif"), "--name");
    await checkWritableDir(join(dir, "x", "y"), "storage");
  });

  it("refuses a directory, naming the path as given", async () => {
    await mkdir(join(dir, "sub"));
    await assert.rejects(
      checkOutputFile(join(dir, "sub"), "--name"),
      failsWith(/^--name .*\/sub is a directory; give a file name such as .*\/sub\/image\.sif$/),
    );
  });

  it("refuses names over NAME_MAX and paths over PATH_MAX before touching the disk", () => {
    assert.throws(
      () => checkPathLength(`/tmp/${"a".repeat(256)}`, "--name x"),
      failsWith(/longer than 255 bytes/),
    );
    assert.throws(
      () => checkPathLength(`/tmp/${"é".repeat(128)}`, "--name x"),
      failsWith(/longer than 255 bytes/),
    );
    checkPathLength(`/tmp/${"a".repeat(255)}`, "--name x");
    const deep = `/${Array.from({ length: 20 }, () => "d".repeat(250)).join("/")}`;
    assert.throws(
      () => checkPathLength(deep, "--name x"),
      failsWith(/^--name x: the path is longer than 4095 bytes$/),
    );
  });

  it("refuses a file in the way of a folder", async () => {
    await writeFile(join(dir, "file"), "x");
    await assert.rejects(
      checkWritableDir(join(dir, "file", "sub"), "the image storage"),
      failsWith(/is in the way and is not a folder/),
    );
  });

  it("placeCopy links the stored file to the name, replacing an old one", async () => {
    const stored = join(dir, "stored.sif");
    await writeFile(stored, "sif bytes");
    const named = join(dir, "named.sif");
    await writeFile(named, "old");
    await placeCopy(stored, named);
    assert.equal(await readFile(named, "utf8"), "sif bytes");
    assert.equal((await stat(named)).ino, (await stat(stored)).ino, "a hard link on the same filesystem");
    await placeCopy(stored, stored); // the same file: nothing to do
    assert.equal(await readFile(stored, "utf8"), "sif bytes");
  });
});
