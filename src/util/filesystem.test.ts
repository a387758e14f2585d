import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { filesystemOf, unlinkQuietly, unlinkQuietlySync } from "./filesystem.js";

describe("filesystemOf", () => {
  it("names network filesystems by their statfs magic, including values Node reports as negative", () => {
    const cases: [number, string][] = [
      [0x6969, "nfs"],
      [0x0bd00bd0, "lustre"],
      [0x47504653, "gpfs"],
      [0x19830326, "beegfs"],
      [0x00c36400, "cephfs"],
      [0xff534d42 | 0, "cifs"],
      [0xfe534d42 | 0, "smb2"],
      [0x65735546, "fuse"],
    ];
    for (const [type, name] of cases) {
      assert.deepEqual(
        { ...filesystemOf("/x", () => ({ type })), type: 0 },
        { name, network: true, type: 0 },
        name,
      );
    }
    assert.deepEqual(
      filesystemOf("/x", () => ({ type: 0xef53 })),
      { name: "ext4", network: false, type: 0xef53 },
    );
    assert.equal(filesystemOf("/x", () => ({ type: 0x1234 })).name, "0x1234");
  });

  it("asks about the nearest existing parent of a path that does not exist yet", () => {
    const asked: string[] = [];
    const statfs = (path: string) => {
      asked.push(path);
      if (path !== "/data") throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
      return { type: 0x6969 };
    };
    assert.equal(filesystemOf("/data/u/.singularity/sregistry.db", statfs).name, "nfs");
    assert.deepEqual(asked, [
      "/data/u/.singularity/sregistry.db",
      "/data/u/.singularity",
      "/data/u",
      "/data",
    ]);
  });

  it("reads the real filesystem with Node's statfs", () => {
    const info = filesystemOf(join(tmpdir(), "does-not-exist", "x.db"));
    assert.equal(typeof info.network, "boolean");
    assert.ok(info.type > 0);
  });
});

describe("unlinkQuietly", () => {
  it("removes a file, accepts one already gone, and throws any other error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "unlink-quietly-"));
    try {
      const file = join(dir, "f");
      writeFileSync(file, "x");
      await unlinkQuietly(file);
      assert.equal(existsSync(file), false);
      await unlinkQuietly(file);
      writeFileSync(file, "x");
      unlinkQuietlySync(file);
      assert.equal(existsSync(file), false);
      unlinkQuietlySync(file);
      // A directory is not "already gone": EISDIR (Linux) must reach the caller.
      await assert.rejects(unlinkQuietly(dir), (err: NodeJS.ErrnoException) => err.code !== "ENOENT");
      assert.throws(
        () => unlinkQuietlySync(dir),
        (err: NodeJS.ErrnoException) => err.code !== "ENOENT",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
