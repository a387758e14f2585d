import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SregistryError } from "../util/errors.js";
import { placeFile, removeEmptyDirs, sha256File, storagePath } from "./storage.js";
import { makeTempDir } from "./catalog.testing.js";

let dir: string;
before(async () => {
  dir = await makeTempDir("sregistry-storage-");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exdev = (): Error =>
  Object.assign(new Error("EXDEV: cross-device link not permitted"), { code: "EXDEV" });

describe("storagePath", () => {
  const storage = "/data/shub";

  it("builds <collection>/<name>/<tag>@<version>.sif", () => {
    assert.equal(
      storagePath(storage, { collection: "library", name: "busybox", tag: "latest", version: "77c5" }),
      "/data/shub/library/busybox/latest@77c5.sif",
    );
    assert.equal(
      storagePath(storage, { collection: "library", name: "busybox", tag: "latest", version: "sha256:ab" }),
      "/data/shub/library/busybox/latest@sha256:ab.sif",
    );
  });

  it("uses <tag>.sif without a version and allows nested collections", () => {
    assert.equal(
      storagePath(storage, { collection: "nvidia/clara", name: "clara-parabricks", tag: "4.0", version: "" }),
      "/data/shub/nvidia/clara/clara-parabricks/4.0.sif",
    );
    assert.equal(
      storagePath("shub/", { collection: "a", name: "b", tag: "c" }),
      join(process.cwd(), "shub/a/b/c.sif"),
    );
  });

  const bad: Array<[string, Record<string, string>]> = [
    ["collection ..", { collection: ".." }],
    ["nested ..", { collection: "a/../../etc" }],
    ["absolute collection", { collection: "/etc" }],
    ["empty segment", { collection: "a//b" }],
    ["trailing slash", { collection: "a/" }],
    ["name ..", { name: ".." }],
    ["name with slash", { name: "a/b" }],
    ["tag with slash", { tag: "../x" }],
    ["tag .", { tag: "." }],
    ["version with slash", { version: "../../x" }],
    ["NUL", { name: "a\0b" }],
    ["backslash", { collection: "a\\..\\b" }],
    ["empty name", { name: "" }],
    ["empty tag", { tag: "" }],
  ];
  for (const [what, override] of bad) {
    it(`rejects ${what}`, () => {
      const image = { collection: "library", name: "busybox", tag: "latest", version: "v", ...override };
      assert.throws(() => storagePath(storage, image), SregistryError);
    });
  }

  it("accepts a tag of '..'-lookalikes that stay inside", () => {
    assert.equal(
      storagePath(storage, { collection: "a..b", name: "..x", tag: "x..", version: "" }),
      "/data/shub/a..b/..x/x...sif",
    );
  });
});

describe("placeFile", () => {
  const leftovers = async (folder: string): Promise<string[]> =>
    (await readdir(folder)).filter((name) => name.includes(".tmp-"));

  it("moves a file into new folders and leaves no temp file", async () => {
    const src = join(dir, "move-src.sif");
    await writeFile(src, "image-1");
    const dest = join(dir, "store", "library", "busybox", "latest@1.sif");
    await placeFile(src, dest, { copy: false });
    assert.equal(await readFile(dest, "utf8"), "image-1");
    await assert.rejects(stat(src), { code: "ENOENT" });
    assert.deepEqual(await leftovers(join(dir, "store", "library", "busybox")), []);
  });

  it("copies and replaces an existing destination", async () => {
    const src = join(dir, "copy-src.sif");
    const dest = join(dir, "copy-dest.sif");
    await writeFile(src, "new");
    await writeFile(dest, "old");
    await placeFile(src, dest, { copy: true });
    assert.equal(await readFile(dest, "utf8"), "new");
    assert.equal(await readFile(src, "utf8"), "new");
    assert.deepEqual(await leftovers(dir), []);
  });

  it("falls back to copy + rename + unlink when rename crosses filesystems", async () => {
    const src = join(dir, "exdev-src.sif");
    const dest = join(dir, "exdev", "out.sif");
    await writeFile(src, "cross-device");
    const calls: Array<[string, string]> = [];
    const { rename } = await import("node:fs/promises");
    await placeFile(src, dest, {
      copy: false,
      rename: async (from, to) => {
        calls.push([from, to]);
        if (from === src) throw exdev();
        await rename(from, to);
      },
    });
    assert.equal(await readFile(dest, "utf8"), "cross-device");
    await assert.rejects(stat(src), { code: "ENOENT" });
    assert.equal(calls.length, 2);
    assert.match(calls[1]?.[0] ?? "", /\/\.out\.sif\.tmp-[0-9a-f]{12}$/);
    assert.equal(calls[1]?.[1], dest);
    assert.deepEqual(await leftovers(join(dir, "exdev")), []);
  });

  it("never shows a partial file under the final name when the last rename fails", async () => {
    const src = join(dir, "fail-src.sif");
    const dest = join(dir, "fail", "out.sif");
    await writeFile(src, "keep-me");
    await assert.rejects(
      placeFile(src, dest, {
        copy: false,
        rename: async (from, to) => {
          if (from === src) throw exdev();
          if (to === dest) throw Object.assign(new Error("ENOSPC"), { code: "ENOSPC" });
          throw new Error(`unexpected rename ${from} -> ${to}`);
        },
      }),
      { code: "ENOSPC" },
    );
    await assert.rejects(stat(dest), { code: "ENOENT" });
    assert.deepEqual(await readdir(join(dir, "fail")), []);
    assert.equal(await readFile(src, "utf8"), "keep-me");
  });

  it("gives a moved source back when the final rename fails", async () => {
    const { rename } = await import("node:fs/promises");
    const src = join(dir, "back-src.sif");
    const dest = join(dir, "back", "out.sif");
    await writeFile(src, "data");
    await assert.rejects(
      placeFile(src, dest, {
        copy: false,
        rename: async (from, to) => {
          if (to === dest) throw Object.assign(new Error("EIO"), { code: "EIO" });
          await rename(from, to);
        },
      }),
      { code: "EIO" },
    );
    assert.equal(await readFile(src, "utf8"), "data");
    assert.deepEqual(await readdir(join(dir, "back")), []);
  });
});

describe("removeEmptyDirs", () => {
  it("removes empty parents up to, not including, the root and stops at a non-empty one", async () => {
    const root = join(dir, "rm-root");
    await mkdir(join(root, "a", "b", "c"), { recursive: true });
    await writeFile(join(root, "a", "keep.txt"), "x");
    removeEmptyDirs(join(root, "a", "b", "c"), root);
    assert.deepEqual(await readdir(join(root, "a")), ["keep.txt"]);
    await rm(join(root, "a", "keep.txt"));
    removeEmptyDirs(join(root, "a"), root);
    assert.deepEqual(await readdir(root), []);
  });

  it("does nothing outside the root or at the root itself", async () => {
    const root = join(dir, "rm-root2");
    const outside = join(dir, "rm-outside");
    await mkdir(root, { recursive: true });
    await mkdir(outside, { recursive: true });
    removeEmptyDirs(outside, root);
    removeEmptyDirs(root, root);
    assert.ok((await stat(outside)).isDirectory());
    assert.ok((await stat(root)).isDirectory());
  });
});

describe("sha256File", () => {
  it("hashes by streaming, equal to a one-shot hash", async () => {
    const path = join(dir, "hash.bin");
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
    await writeFile(path, data);
    assert.equal(await sha256File(path), createHash("sha256").update(data).digest("hex"));
    await writeFile(path, "");
    assert.equal(await sha256File(path), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});
