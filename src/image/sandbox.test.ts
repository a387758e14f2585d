import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { tarLayer, ZERO_MODE } from "./flatten/flatten.testing.js";
import { silentLogger } from "../util/log.js";
import { extractTar } from "./sandbox.js";

describe("extractTar", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sandbox-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const extract = async (name: string, tar: Buffer, asRoot = false) => {
    const root = join(dir, name);
    await mkdir(root);
    const stats = await extractTar(Readable.from([tar]), root, { logger: silentLogger, asRoot });
    return { root, stats };
  };

  it("writes files, links, modes and times; read-only directories are filled first", async () => {
    const tar = await tarLayer([
      { name: "ro/", mode: 0o500, mtime: new Date(1_000_000_000_000) },
      { name: "ro/f", body: "in ro", mode: 0o4755 },
      { name: "zero", body: "z", mode: 0 },
      { name: "ro/hard", type: "link", linkname: "ro/f" },
      { name: "sym", type: "symlink", linkname: "ro/f" },
      { name: "deep/er/file", body: "parents made on the way" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    ]);
    const { root, stats } = await extract("ok", tar);
    assert.equal(await readFile(join(root, "ro/f"), "utf8"), "in ro");
    assert.equal((await stat(join(root, "ro"))).mode & 0o7777, 0o500);
    assert.equal((await stat(join(root, "ro"))).mtimeMs, 1_000_000_000_000);
    assert.equal((await stat(join(root, "ro/f"))).mode & 0o7777, 0o4755);
    assert.equal((await stat(join(root, "zero"))).mode & 0o7777, 0);
    assert.equal((await stat(join(root, "ro/hard"))).ino, (await stat(join(root, "ro/f"))).ino);
    assert.equal(await readlink(join(root, "sym")), "ro/f");
    assert.equal(await readFile(join(root, "deep/er/file"), "utf8"), "parents made on the way");
    assert.ok((await lstat(join(root, "dev/null"))).isFile(), "rootless: a device becomes an empty file");
    assert.equal(stats.devicesAsFiles, 1);
    assert.equal(ZERO_MODE & 0o7777, 0);
  });

  it("never writes through a symlink already in the target", async () => {
    const outside = join(dir, "outside");
    await mkdir(outside);
    const root = join(dir, "planted");
    await mkdir(root);
    await symlink(outside, join(root, "etc"));
    const tar = await tarLayer([{ name: "etc/passwd", body: "pwned" }]);
    await assert.rejects(
      extractTar(Readable.from([tar]), root, { logger: silentLogger }),
      /refusing to extract through the symlink etc/,
    );
    assert.equal(existsSync(join(outside, "passwd")), false);
  });

  it("refuses names that are absolute or climb out, and symlinks as hardlink targets", async () => {
    for (const [name, tar] of [
      ["dotdot", await tarLayer([{ name: "a/../../x", body: "x" }])],
      ["absolute", await tarLayer([{ name: "/etc/x", body: "x" }])],
      [
        "hardsym",
        await tarLayer([
          { name: "s", type: "symlink", linkname: "/etc/passwd" },
          { name: "h", type: "link", linkname: "s" },
        ]),
      ],
    ] as const) {
      const root = join(dir, name);
      await mkdir(root);
      await assert.rejects(
        extractTar(Readable.from([tar]), root, { logger: silentLogger }),
        /refusing to extract/,
      );
    }
    assert.equal(existsSync(join(dir, "x")), false);
  });
});
