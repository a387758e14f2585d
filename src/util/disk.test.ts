import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SregistryError } from "./errors.js";
import {
  type DiskProbe,
  formatBytes,
  freeBytes,
  isNoSpace,
  mountPointOf,
  noSpaceError,
  preflight,
  safetyMargin,
} from "./disk.js";

describe("formatBytes", () => {
  it("uses decimal units with one decimal below ten", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(999), "999 B");
    assert.equal(formatBytes(1_234), "1.2 kB");
    assert.equal(formatBytes(800_000_000), "800 MB");
    assert.equal(formatBytes(1_200_000_000), "1.2 GB");
    assert.equal(formatBytes(12_400_000_000), "12 GB");
    assert.equal(formatBytes(999_999_999), "1.0 GB");
  });
});

describe("disk space", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sregistry-disk-"));
    await writeFile(join(dir, "file"), "x");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A fake statfs reporting `free` bytes for every path, recording what it was asked about. */
  function fakeDisk(free: number, type = 0xef53): DiskProbe & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      statfs: async (path) => {
        asked.push(path);
        return { type, bsize: 4096, bavail: Math.floor(free / 4096) };
      },
    };
  }

  it("freeBytes walks up to the nearest existing directory", async () => {
    const disk = fakeDisk(4096 * 10);
    assert.equal(await freeBytes(join(dir, "not", "yet", "there"), disk), 4096 * 10);
    assert.deepEqual(disk.asked, [dir]);
  });

  it("freeBytes of a file path asks about its directory", async () => {
    const disk = fakeDisk(4096);
    await freeBytes(join(dir, "file", "below"), disk);
    assert.deepEqual(disk.asked, [dir]);
  });

  it("freeBytes works against the real statfs", async () => {
    assert.ok((await freeBytes(dir)) > 0);
  });

  it("passes when the needs plus margin fit", async () => {
    const need = 100_000_000;
    const disk = fakeDisk(need + safetyMargin(need) + 8192);
    await preflight([{ path: join(dir, "cache"), bytes: need, what: "layer cache" }], disk);
  });

  it("sums needs on the same filesystem and names them in the error", async () => {
    const disk = fakeDisk(800_000_000);
    await assert.rejects(
      preflight(
        [
          { path: join(dir, "cache"), bytes: 600_000_000, what: "layer cache" },
          { path: join(dir, "images"), bytes: 600_000_000, what: "SIF image" },
        ],
        disk,
      ),
      (err: unknown) => {
        assert.ok(err instanceof SregistryError);
        assert.equal(err.code, "NO_SPACE");
        assert.equal(
          err.message,
          `not enough free space in ${join(dir, "cache")} and ${join(dir, "images")} (layer cache, SIF image): need 1.3 GB, 800 MB free`,
        );
        return true;
      },
    );
  });

  it("checks different filesystems separately", async () => {
    // Same device number but different statfs types stand for two filesystems of 700 MB each.
    const probe: DiskProbe = {
      statfs: async (path) => ({ type: path.endsWith("a") ? 1 : 2, bsize: 1, bavail: 700_000_000 }),
    };
    await mkdir(join(dir, "a"), { recursive: true });
    await mkdir(join(dir, "b"), { recursive: true });
    const needs = [
      { path: join(dir, "a"), bytes: 600_000_000, what: "layer cache" },
      { path: join(dir, "b"), bytes: 600_000_000, what: "SIF image" },
    ];
    await preflight(needs, probe);
    needs[1]!.bytes = 700_000_000;
    await assert.rejects(preflight(needs, probe), /in .*\/b \(SIF image\): need 774 MB, 700 MB free$/);
  });

  it("ignores zero and unknown sizes", async () => {
    await preflight(
      [
        { path: dir, bytes: -1, what: "x" },
        { path: dir, bytes: 0, what: "y" },
      ],
      fakeDisk(0),
    );
  });

  it("fails clearly when the margin alone does not fit", async () => {
    await assert.rejects(
      preflight([{ path: dir, bytes: 1, what: "x" }], fakeDisk(10_000_000)),
      /need 67 MB, 10 MB free/,
    );
  });
});

describe("full disk during a write", () => {
  /** /data is its own filesystem (dev 2) under / (dev 1). */
  const probe: DiskProbe = {
    stat: async (path) => {
      if (path === "/data/shub/.sregistry-tmp" || path === "/data/shub" || path === "/data") {
        return { dev: 2, isDirectory: () => true };
      }
      if (path === "/") return { dev: 1, isDirectory: () => true };
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    },
    statfs: async () => ({ type: 0x01021994, bsize: 4096, bavail: 0 }),
  };

  it("finds the mount point of a path", async () => {
    assert.equal(await mountPointOf("/data/shub/.sregistry-tmp/x.sif", probe), "/data");
    assert.equal(await mountPointOf("/", probe), "/");
  });

  it("names the filesystem, the place and how much was needed", async () => {
    const cause = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    assert.ok(isNoSpace(cause));
    assert.ok(isNoSpace(new SregistryError("tar2sqfs failed", { code: "NO_SPACE" })));
    assert.ok(!isNoSpace(new Error("other")));
    const err = await noSpaceError(
      "/data/shub/.sregistry-tmp",
      "the image being built",
      { estimated: 1_200_000_000, freeBefore: 800_000_000 },
      cause,
      probe,
    );
    assert.equal(
      err.message,
      "no space left on the filesystem mounted at /data while writing the image being built in " +
        "/data/shub/.sregistry-tmp: it needs about 1.2 GB (800 MB were free when it began, 0 B now); " +
        "free some space there or use another place",
    );
    assert.equal(err.code, "NO_SPACE");
  });
});
