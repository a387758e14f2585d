import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { InodeTable } from "./inodes.js";
import { makePlan, pathsOf } from "./plan.js";
import type { TarEntry } from "./tar-header.js";
import { FlatTree, NONE, ROOT } from "./tree.js";

function entry(name: string, fields: Partial<TarEntry> = {}): TarEntry {
  return {
    name,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1_600_000_000,
    linkname: "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: null,
    ...fields,
  };
}

function childNames(tree: FlatTree, dir: number): string[] {
  const names: string[] = [];
  for (let node = tree.firstChild(dir); node !== NONE; node = tree.nextSibling(node)) {
    names.push(tree.name(node));
  }
  return names;
}

function applyLayer(tree: FlatTree, layer: number, entries: TarEntry[]): void {
  tree.startLayer(layer);
  entries.forEach((item, index) => tree.apply(item, { layer, index }));
}

describe("InodeTable", () => {
  it("gives back every field of the entries it stores, the rare ones included", () => {
    const inodes = new InodeTable();
    const added = [
      entry("./usr/bin/tool", {
        size: 5 * 2 ** 32,
        mode: 0o4755,
        uid: 4_000_000_000,
        uname: "a/b",
        gname: "c",
      }),
      entry("usr/bin/link", { type: "symlink", linkname: "../../etc/x", mtime: 2 ** 40 }),
      entry("dev/null", { type: "char", devmajor: 1, devminor: 3, mtime: -5 }),
      entry("bin/ping", { xattrs: new Map([["security.capability", Buffer.from([1, 0, 0, 2])]]) }),
      entry("etc/x", { uname: "a", gname: "/bc", mtime: 0.5 }),
    ];
    const numbers = added.map((item, index) => inodes.add(item, { layer: 3, index }));
    const content = inodes.add(entry("run", { size: 2 }), { content: Buffer.from("hi") });
    added.forEach((item, i) => {
      assert.deepEqual(inodes.entry(numbers[i]!, "renamed"), { ...item, name: "renamed" });
      assert.equal(inodes.layer(numbers[i]!), 3);
      assert.equal(inodes.index(numbers[i]!), i);
      assert.ok(inodes.nameMatches(numbers[i]!, item.name));
      assert.ok(!inodes.nameMatches(numbers[i]!, item.name + "x"));
    });
    assert.equal(inodes.content(content)?.toString(), "hi");
    assert.equal(inodes.layer(content), -1);
  });
});

describe("FlatTree", () => {
  it("keeps children in the order a Map would: a replaced path moves last, a replaced parent stays", () => {
    const tree = new FlatTree();
    applyLayer(tree, 0, [
      entry("d/", { type: "dir" }),
      entry("d/a"),
      entry("d/b"),
      entry("d/c"),
      entry("d/f"),
    ]);
    applyLayer(tree, 1, [
      entry("d/b"), // replaced: now last
      entry("d/f/inner"), // a file parent becomes a directory in place
      entry("d/.wh.a"),
      entry("d/a"), // removed, then written again: last
    ]);
    const d = tree.lookup(["d"]);
    assert.deepEqual(childNames(tree, d), ["c", "f", "b", "a"]);
    assert.ok(tree.isDir(tree.lookup(["d", "f"])));
    assert.deepEqual(childNames(tree, ROOT), ["d"]);
  });

  it("an opaque directory keeps what its own layer wrote and a whiteout spares the upper paths", () => {
    const tree = new FlatTree();
    applyLayer(tree, 0, [entry("d/x"), entry("d/y"), entry("e/z")]);
    applyLayer(tree, 1, [entry("d/w"), entry("d/.wh..wh..opq"), entry("e/new"), entry(".wh.e")]);
    assert.deepEqual(childNames(tree, tree.lookup(["d"])), ["w"]);
    assert.deepEqual(childNames(tree, tree.lookup(["e"])), ["new"]);
  });

  it("plans an inode's paths in walk order (the last directory first) and drops the removed ones", () => {
    const tree = new FlatTree();
    applyLayer(tree, 0, [
      entry("a/file", { size: 3 }),
      entry("b/link", { type: "link", linkname: "a/file" }),
    ]);
    tree.seal();
    const plan = makePlan(tree);
    assert.deepEqual(
      [...plan.dirs].map((node) => tree.path(node)),
      ["a", "b"],
    );
    assert.deepEqual(pathsOf(plan, plan.bodies.get(0)![0]!), ["b/link", "a/file"]);

    const removed = new FlatTree();
    applyLayer(removed, 0, [
      entry("a/file", { size: 3 }),
      entry("b/link", { type: "link", linkname: "a/file" }),
    ]);
    applyLayer(removed, 1, [entry("b/.wh.link")]);
    removed.seal();
    const planned = makePlan(removed);
    assert.deepEqual(pathsOf(planned, planned.bodies.get(0)![0]!), ["a/file"]);
  });

  it("stays compact: far under 200 bytes per path for 100,000 files", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const used = (): number => {
      gc();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const count = 100_000;
    const before = used();
    const tree = new FlatTree();
    tree.startLayer(0);
    for (let i = 0; i < count; i++) {
      tree.apply(entry(`usr/lib/python3/pkg/m${Math.floor(i / 1000)}/f${i}.py`, { size: 100 + i }), {
        layer: 0,
        index: i,
      });
    }
    tree.seal();
    const plan = makePlan(tree);
    const perPath = (used() - before) / count;
    // The object-per-path tree with its plan took about 560 bytes per path.
    assert.ok(perPath < 200, `${perPath.toFixed(0)} bytes per path`);
    assert.equal(plan.bodies.get(0)!.length, count);
  });
});
