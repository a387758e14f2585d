/**
 * Layer flattening against umoci: the same OCI layout is unpacked by `umoci unpack` (as root, so
 * ownership and devices are real) and by flattenLayers → sqfstar / tar2sqfs → `unsquashfs -d`, and
 * the two trees are compared file by file: type, mode, owner, size, content, symlink targets,
 * device numbers, xattrs, mtimes and hardlink groups.
 *
 * Excluded, with reasons:
 * - the root directory itself: umoci creates `rootfs/` with its own mode and time (the layers here
 *   have no `./` entry), our root comes from the builder's `-root-*` defaults.
 * Nothing else is excluded: directory mtimes match too (umoci restores a parent's time after every
 * entry, whiteouts included).
 */
import assert from "node:assert/strict";
import { mkdir, readFile, utimes, writeFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { snapshotTree, ZERO_MODE, type SnapshotItem } from "../../src/image/flatten/flatten.testing.js";
import { flattenInto, type StoredLayer } from "../../src/image/flatten-stream.js";
import { buildSquashfs } from "../../src/image/squashfs/builder.js";
import { silentLogger } from "../../src/util/log.js";
import { buildOciLayout, randomBytes, type FixtureEntry, type FixtureLayer } from "../harness/fixtures.js";
import { run, tmpDir, umociUnpack, type TmpDir } from "../harness/tools.js";

const isRoot = process.getuid?.() === 0;
const LONG_DIR = "long/" + "b".repeat(200);

function layer1(): FixtureEntry[] {
  return [
    { path: "etc/", type: "dir" },
    { path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
    { path: "etc/shadow", content: "secret", mode: ZERO_MODE },
    { path: "etc/passwd-link", type: "hardlink", linkname: "etc/passwd" },
    { path: "bin/", type: "dir" },
    { path: "bin/sh", content: randomBytes(300_000, 1), mode: 0o4755 },
    { path: "bin/sg", content: "sg", mode: 0o2755, gid: 42 },
    { path: "bin/sh-link", type: "hardlink", linkname: "bin/sh" },
    { path: "bin/ls", type: "symlink", linkname: "sh" },
    { path: "lib", type: "symlink", linkname: "usr/lib" },
    { path: "abs", type: "symlink", linkname: "/etc/passwd" },
    { path: "tmp/", type: "dir", mode: 0o1777 },
    { path: "d0500/", type: "dir", mode: 0o500 },
    { path: "d0500/f", content: "in 0500" },
    { path: "d0000/", type: "dir", mode: ZERO_MODE },
    { path: "d0000/inner", content: "in 0000", mode: 0o500 },
    { path: "home/", type: "dir" },
    { path: "home/user/", type: "dir", uid: 1000, gid: 1000, mode: 0o700 },
    { path: "home/user/file", content: "mine", uid: 1000, gid: 100, mode: 0o600 },
    { path: "dev/", type: "dir" },
    { path: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
    { path: "dev/loop0", type: "block", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    { path: "run/", type: "dir" },
    { path: "run/fifo", type: "fifo", mode: 0o600 },
    { path: "long/", type: "dir" },
    { path: "long/" + "a".repeat(120), content: "name of 125 bytes" },
    { path: LONG_DIR + "/", type: "dir" },
    { path: LONG_DIR + "/" + "c".repeat(200), content: "path of 406 bytes" },
    { path: "xattr/", type: "dir" },
    {
      path: "xattr/file",
      content: "x",
      pax: { "SCHILY.xattr.user.test": "hello", "SCHILY.xattr.user.other": "v2" },
    },
    { path: "rep", content: "file1" },
    { path: "wh/", type: "dir" },
    { path: "wh/a", content: "a" },
    { path: "wh/b/", type: "dir" },
    { path: "wh/b/c", content: "c" },
    { path: "wh/keep", content: "k" },
    { path: "opq/", type: "dir" },
    { path: "opq/lower1", content: "l1" },
    { path: "opq/sub/", type: "dir" },
    { path: "opq/sub/x", content: "x" },
    { path: "hl/", type: "dir" },
    { path: "hl/orig", content: "original body", mode: 0o640, uid: 7 },
  ];
}

function layer2(): FixtureEntry[] {
  return [
    { path: "wh/.wh.a" },
    { path: "wh/.wh.b" },
    { path: "opq/new", content: "new" },
    { path: "opq/.wh..wh..opq" },
    { path: "opq/after", content: "after" },
    { path: "rep/", type: "dir" },
    { path: "rep/child", content: "child" },
    { path: "hl/link", type: "hardlink", linkname: "hl/orig" },
    { path: "etc/passwd", content: "replaced\n" },
  ];
}

function layer3(): FixtureEntry[] {
  return [{ path: "hl/.wh.orig" }, { path: "rep", content: "file3" }];
}

/** A layer written by GNU tar in GNU format: `L`/`K` long name and long link records. */
async function gnuLayer(dir: string): Promise<Buffer> {
  const base = join(dir, "gnu-src");
  const deep = join(base, "gnu", "g".repeat(150));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, "file"), "gnu long name");
  await symlink("t".repeat(150), join(base, "gnu", "longlink"));
  for (const path of [join(deep, "file"), deep, join(base, "gnu")])
    await utimes(path, 1_700_000_000, 1_700_000_000);
  const args = ["--format=gnu", "--numeric-owner", "--owner=0", "--group=0", "-C", base, "-cf", "-", "gnu"];
  return (await run("tar", args)).stdoutBuffer;
}

function hardlinkGroups(tree: Map<string, SnapshotItem>): Map<string, string> {
  const byInode = new Map<number, string[]>();
  for (const [path, item] of tree) {
    if (item.type === 0o040000) continue;
    byInode.set(item.ino, [...(byInode.get(item.ino) ?? []), path]);
  }
  const groups = new Map<string, string>();
  for (const paths of byInode.values()) for (const p of paths) groups.set(p, paths.sort().join(" | "));
  return groups;
}

function comparable(item: SnapshotItem): Omit<SnapshotItem, "ino"> {
  const { ino: _ino, ...rest } = item;
  return rest;
}

describe(
  "flattenLayers + squashfs vs umoci unpack",
  { skip: !isRoot && "needs root for umoci and unsquashfs" },
  () => {
    let tmp: TmpDir;
    let umoci: Map<string, SnapshotItem>;
    let stored: StoredLayer[];

    before(async () => {
      tmp = await tmpDir("flatten-umoci-");
      const layers: FixtureLayer[] = [
        { entries: layer1() },
        { entries: layer2() },
        { entries: layer3() },
        { entries: [] },
        { rawTar: await gnuLayer(tmp.path) },
      ];
      const layout = await buildOciLayout(join(tmp.path, "layout"), { layers }, { tag: "test" });
      await umociUnpack(layout.dir, "test", join(tmp.path, "bundle"));
      umoci = snapshotTree(join(tmp.path, "bundle", "rootfs"));
      stored = layout.images[0]!.layers.map((l) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        path: join(layout.dir, "blobs", "sha256", l.digest.slice(7)),
      }));
    });

    after(async () => {
      await tmp?.cleanup();
    });

    for (const tool of ["sqfstar", "tar2sqfs"] as const) {
      it(`gives the same tree as umoci (${tool})`, async () => {
        const image = join(tmp.path, `${tool}.sqfs`);
        const result = await flattenInto(
          { layers: stored, overlay: [], diffIds: undefined, allowForeign: false, logger: silentLogger },
          (tar, root, stop) => buildSquashfs(tar, { path: image }, { tool, root, signal: stop }),
        );
        assert.equal(result.tool, tool);
        const out = join(tmp.path, `${tool}-root`);
        await run("unsquashfs", ["-no-progress", "-d", out, image]);
        const ours = snapshotTree(out);
        ours.delete(".");
        const theirs = new Map(umoci);
        theirs.delete(".");
        assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
        for (const [path, item] of theirs) {
          assert.deepEqual(comparable(ours.get(path)!), comparable(item), `differs: ${path}`);
        }
        assert.deepEqual(hardlinkGroups(ours), hardlinkGroups(theirs));
        // Spot checks that the fixture really exercises what it claims.
        assert.equal(await readFile(join(out, "hl/link"), "utf8"), "original body");
        assert.equal(await readFile(join(out, "etc/passwd-link"), "utf8"), "root:x:0:0::/root:/bin/sh\n");
        assert.equal(ours.get("xattr/file")!.xattrs["user.test"], Buffer.from("hello").toString("hex"));
        assert.equal(ours.get("bin/sh")!.mode, 0o4755);
        assert.equal(ours.get("d0000")!.mode, 0);
        assert.equal(ours.get("etc/shadow")!.mode, 0);
        assert.deepEqual(ours.get("dev/null")!.rdev, [1, 3]);
        assert.equal(ours.get("home/user/file")!.uid, 1000);
        assert.ok(ours.has(`gnu/${"g".repeat(150)}/file`));
      });
    }
  },
);
