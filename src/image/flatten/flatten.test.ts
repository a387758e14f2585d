import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { describe, it } from "node:test";
import { SregistryError } from "../../util/errors.js";
import { flattenLayers } from "./flatten.js";
import { flattenToList, memoryLayer, tarLayer, type LayerItem } from "./flatten.testing.js";
import type { FlattenOptions, LayerSource, OverlayEntry } from "./types.js";

async function flat(layers: LayerItem[][], overlay: OverlayEntry[] = [], options: FlattenOptions = {}) {
  const sources = await Promise.all(layers.map(async (items) => memoryLayer(await tarLayer(items))));
  return flattenToList(sources, overlay, options);
}

function names(result: Awaited<ReturnType<typeof flat>>): string[] {
  return [...result.entries.keys()].sort();
}

function body(result: Awaited<ReturnType<typeof flat>>, name: string): string {
  const entry = result.entries.get(name);
  assert.ok(entry, `missing ${name}`);
  if (entry.header.type === "link") return body(result, entry.header.linkname!);
  return entry.body.toString();
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SregistryError, `not an SregistryError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("flattenLayers: whiteouts", () => {
  it("removes a lower file and a lower subtree", async () => {
    const r = await flat([
      [
        { name: "a/x", body: "1" },
        { name: "d/e/f", body: "2" },
        { name: "keep", body: "k" },
      ],
      [{ name: "a/.wh.x" }, { name: ".wh.d" }],
    ]);
    assert.deepEqual(names(r), ["a", "keep"]);
  });

  it("keeps what the same layer wrote before the whiteout (upperPaths)", async () => {
    const r = await flat([
      [{ name: "d/old", body: "old" }],
      [{ name: "d/new", body: "new" }, { name: ".wh.d" }],
    ]);
    assert.deepEqual(names(r), ["d", "d/new"]);
  });

  it("opaque hides lower children only and keeps the directory's new metadata", async () => {
    const r = await flat([
      [
        { name: "d/", mode: 0o700 },
        { name: "d/lower", body: "l" },
        { name: "d/sub/deep", body: "x" },
      ],
      [{ name: "d/", mode: 0o750, uid: 7 }, { name: "d/mine", body: "m" }, { name: "d/.wh..wh..opq" }],
    ]);
    assert.deepEqual(names(r), ["d", "d/mine"]);
    assert.equal(r.entries.get("d")!.header.mode, 0o750);
    assert.equal(r.entries.get("d")!.header.uid, 7);
  });

  it("ignores whiteouts of missing paths and rejects malformed ones", async () => {
    const r = await flat([[{ name: "a", body: "1" }], [{ name: "nothing/.wh.here" }, { name: ".wh.gone" }]]);
    assert.deepEqual(names(r), ["a"]);
    await rejectsWith(flat([[{ name: "a/.wh." }]]), "LAYER_INVALID", /invalid whiteout/);
    await rejectsWith(flat([[{ name: "a/.wh.." }]]), "LAYER_INVALID", /invalid whiteout/);
  });
});

describe("flattenLayers: replacement and links", () => {
  it("replaces file → dir → file across layers", async () => {
    const r = await flat([
      [{ name: "p", body: "file1" }],
      [{ name: "p/" }, { name: "p/child", body: "c" }],
      [{ name: "p", body: "file3" }],
    ]);
    assert.deepEqual(names(r), ["p"]);
    assert.equal(body(r, "p"), "file3");
  });

  it("keeps a hardlink's content when its original is later whited out", async () => {
    const r = await flat([
      [{ name: "bin/orig", body: "payload", mode: 0o4755, uid: 3 }],
      [{ name: "bin/link", type: "link", linkname: "bin/orig" }],
      [{ name: "bin/.wh.orig" }],
    ]);
    assert.deepEqual(names(r), ["bin", "bin/link"]);
    const link = r.entries.get("bin/link")!;
    assert.equal(link.header.type, "file");
    assert.equal(link.body.toString(), "payload");
    assert.equal(link.header.mode, 0o4755);
    assert.equal(link.header.uid, 3);
  });

  it("writes one body per inode and hardlinks for the other paths", async () => {
    const r = await flat([
      [
        { name: "x/a", body: "same" },
        { name: "x/b", type: "link", linkname: "x/a" },
        { name: "x/c", type: "link", linkname: "/x/../x/a" },
      ],
    ]);
    const types = ["x/a", "x/b", "x/c"].map((n) => r.entries.get(n)!.header.type);
    assert.deepEqual(types.sort(), ["file", "link", "link"]);
    for (const n of ["x/a", "x/b", "x/c"]) assert.equal(body(r, n), "same");
    assert.equal(r.stats.hardlinks, 2);
  });

  it("a file replacing a hardlinked path gets a new inode; the other path keeps the old", async () => {
    const r = await flat([
      [
        { name: "a", body: "old" },
        { name: "b", type: "link", linkname: "a" },
      ],
      [{ name: "a", body: "new" }],
    ]);
    assert.equal(body(r, "a"), "new");
    assert.equal(body(r, "b"), "old");
    assert.equal(r.entries.get("a")!.header.type, "file");
    assert.equal(r.entries.get("b")!.header.type, "file");
  });

  it("rejects hardlinks to missing paths and to directories", async () => {
    await rejectsWith(flat([[{ name: "l", type: "link", linkname: "nope" }]]), "LAYER_INVALID", /missing/);
    await rejectsWith(
      flat([[{ name: "d/" }, { name: "l", type: "link", linkname: "d" }]]),
      "LAYER_INVALID",
      /directory/,
    );
  });

  it("passes devices and FIFOs through", async () => {
    const r = await flat([
      [
        { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
        { name: "dev/sda", type: "block-device", devmajor: 8, devminor: 0 },
        { name: "run/fifo", type: "fifo", mode: 0o600 },
      ],
    ]);
    const dev = r.entries.get("dev/null")!.header;
    assert.equal(dev.type, "character-device");
    assert.deepEqual([dev.devmajor, dev.devminor, dev.mode], [1, 3, 0o666]);
    assert.equal(r.entries.get("dev/sda")!.header.type, "block-device");
    assert.equal(r.entries.get("run/fifo")!.header.type, "fifo");
  });
});

describe("flattenLayers: confinement", () => {
  it("cleans absolute and ../ names", async () => {
    const r = await flat([
      [
        { name: "/abs", body: "a" },
        { name: "../../up/x", body: "u" },
        { name: "./d/../e", body: "e" },
      ],
    ]);
    assert.deepEqual(names(r), ["abs", "e", "up", "up/x"]);
  });

  for (const target of ["/", "../../..", "/etc/..", "."]) {
    it(`resolves entries below a symlink x → ${target} inside the root`, async () => {
      const r = await flat([
        [
          { name: "etc/passwd", body: "image" },
          { name: "x", type: "symlink", linkname: target },
        ],
        [{ name: "x/etc/passwd", body: "layer2" }],
      ]);
      assert.equal(body(r, "etc/passwd"), "layer2");
      assert.equal(r.entries.get("x")!.header.type, "symlink");
      for (const name of r.entries.keys())
        assert.ok(!name.startsWith("/") && !name.split("/").includes(".."), name);
    });
  }

  it("confines hardlink targets and rejects those that resolve to nothing", async () => {
    const r = await flat([
      [
        { name: "etc/passwd", body: "pw" },
        { name: "l", type: "link", linkname: "../../etc/passwd" },
      ],
    ]);
    assert.equal(body(r, "l"), "pw");
    await rejectsWith(
      flat([[{ name: "l", type: "link", linkname: "../../etc/shadow" }]]),
      "LAYER_INVALID",
      /missing/,
    );
  });

  it("refuses to change the type of the root", async () => {
    await rejectsWith(flat([[{ name: ".", type: "symlink", linkname: "/tmp" }]]), "LAYER_INVALID", /root/);
    await rejectsWith(flat([[{ name: "a/..", type: "file", body: "x" }]]), "LAYER_INVALID", /root/);
  });

  it("reports the root's attributes instead of writing an entry", async () => {
    const r = await flat([[{ name: "./", type: "directory", mode: 0o700, uid: 5, gid: 6 }]]);
    assert.equal(r.entries.size, 0);
    assert.deepEqual(r.stats.root, { mode: 0o700, uid: 5, gid: 6, mtime: 1_600_000_000 });
  });

  it("stops symlink loops", async () => {
    await rejectsWith(
      flat([
        [
          { name: "a", type: "symlink", linkname: "b" },
          { name: "b", type: "symlink", linkname: "a" },
          { name: "a/x", body: "" },
        ],
      ]),
      "LAYER_INVALID",
      /symbolic links/,
    );
  });
});

describe("flattenLayers: overlay, limits, errors", () => {
  const base = { mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 };

  it("applies overlay entries with their policy", async () => {
    const r = await flat(
      [
        [
          { name: "etc/hosts", body: "image" },
          { name: "keep", body: "image" },
          { name: "env", type: "symlink", linkname: "old" },
        ],
      ],
      [
        { ...base, path: "etc/hosts", type: "file", content: Buffer.from(""), policy: "replace" },
        { ...base, path: "keep", type: "file", content: Buffer.from("overlay"), policy: "ifAbsent" },
        { ...base, path: "env", type: "symlink", linkname: "new", policy: "ifAbsent" },
        { ...base, path: ".singularity.d/", type: "dir", mode: 0o755, policy: "replace" },
        {
          ...base,
          path: ".singularity.d/runscript",
          type: "file",
          mode: 0o755,
          content: Buffer.from("#!/bin/sh\n"),
          policy: "replace",
        },
      ],
    );
    assert.equal(body(r, "etc/hosts"), "");
    assert.equal(body(r, "keep"), "image");
    assert.equal(r.entries.get("env")!.header.linkname, "new");
    assert.equal(body(r, ".singularity.d/runscript"), "#!/bin/sh\n");
  });

  it("stops at the entry limit, the size limit, the path limit and the PAX limit", async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: "" }));
    await rejectsWith(flat([many], [], { maxEntries: 10 }), "LIMIT", /more than 10 tar entries/);
    await rejectsWith(
      flat([[{ name: "big", body: Buffer.alloc(5000) }]], [], { maxTotalBytes: 4096 }),
      "LIMIT",
      /4096 bytes/,
    );
    await rejectsWith(
      flat([[{ name: "x".repeat(300), body: "" }]], [], { maxPathLength: 200 }),
      "LIMIT",
      /longer than 200/,
    );
    const pax = { name: "p", body: "", pax: { comment: "c".repeat(5000) } } as LayerItem;
    await rejectsWith(flat([[pax]], [], { maxPaxHeaderBytes: 1024 }), "LIMIT", /extended header/);
  });

  it("names the layer digest when a tar is malformed", async () => {
    const good = await tarLayer([{ name: "a", body: "x" }]);
    const bad = Buffer.from(good);
    bad[10] = 0x41; // breaks the header checksum
    const source = memoryLayer(bad);
    await rejectsWith(
      flattenToList([source]),
      "LAYER_INVALID",
      new RegExp(source.digest.replace(":", ":") + ".*checksum"),
    );
    await rejectsWith(flattenToList([memoryLayer(good.subarray(0, 700))]), "LAYER_INVALID", /end of tar/);
  });

  it("does not read a layer again when nothing of it survives", async () => {
    const r = await flat([[{ name: "big", body: "x".repeat(10_000) }], [{ name: "big", body: "small" }]]);
    assert.equal(r.stats.layersSkipped, 1);
    assert.equal(body(r, "big"), "small");
  });

  it("writes directories before their children", async () => {
    const r = await flat([
      [{ name: "a/b/c/file", body: "1" }],
      [
        { name: "a/", mode: 0o700 },
        { name: "z/y/", mode: 0o711 },
      ],
    ]);
    const position = (n: string): number => r.order.indexOf(n);
    assert.ok(
      position("a") < position("a/b") &&
        position("a/b") < position("a/b/c") &&
        position("a/b/c") < position("a/b/c/file"),
    );
    assert.ok(position("z") < position("z/y"));
    assert.equal(r.entries.get("a")!.header.mode, 0o700);
  });
});

describe("flattenLayers: diff_ids and inflation bounds", () => {
  const sha = (data: Buffer): string => "sha256:" + createHash("sha256").update(data).digest("hex");

  /** Flattens into a sink that records whether anything at all was written or the consumer started. */
  async function flattenCounting(layers: LayerSource[], options: FlattenOptions = {}) {
    let written = 0;
    let scanned = false;
    const out = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        callback();
      },
    });
    const run = flattenLayers(layers, [], out, { ...options, onScanned: () => (scanned = true) });
    return { run, output: () => ({ written, scanned }) };
  }

  it("accepts layers whose whole decompressed stream, padding included, hashes to the diff_id", async () => {
    const tar = await tarLayer([{ name: "a", body: "x" }]);
    const blocked = Buffer.concat([tar, Buffer.alloc(8192)]); // tar's 10 KiB records
    const layer = { ...memoryLayer(blocked), diffId: sha(blocked) };
    const r = await flattenToList([layer]);
    assert.equal(body(r, "a"), "x");
    assert.equal(r.stats.bytesRead >= blocked.length, true);
    // A digest of the archive up to its end marker only is not the layer's diff_id.
    await rejectsWith(flattenToList([{ ...layer, diffId: sha(tar) }]), "DIGEST_MISMATCH", /diff_ids\[0\]/);
  });

  it("reports a layer's digest mismatch before the tree errors its unverified entries raise", async () => {
    // The layer goes into the tree as it is read; its invalid whiteout must not hide the mismatch.
    const broken = await tarLayer([{ name: "a/.wh." }, { name: "b", body: "2" }]);
    const good = await tarLayer([{ name: "a", body: "1" }]);
    const wrong = "sha256:" + "0".repeat(64);
    for (const layers of [
      [{ ...memoryLayer(broken), diffId: wrong }],
      [
        { ...memoryLayer(good), diffId: sha(good) },
        { ...memoryLayer(broken), diffId: wrong },
      ],
    ]) {
      await rejectsWith(flattenToList(layers), "DIGEST_MISMATCH", /diff_ids/);
    }
    await rejectsWith(
      flattenToList([{ ...memoryLayer(broken), diffId: sha(broken) }]),
      "LAYER_INVALID",
      /^layer 1 of 1 \(.*\): invalid whiteout/,
    );
  });

  it("refuses a layer that does not hash to its diff_id before writing anything", async () => {
    const first = await tarLayer([{ name: "a", body: "1" }]);
    const second = await tarLayer([{ name: "b", body: "2" }]);
    const other = await tarLayer([{ name: "b", body: "3" }]);
    const layers = [
      { ...memoryLayer(first), diffId: sha(first) },
      { ...memoryLayer(second), diffId: sha(other) },
    ];
    const { run, output } = await flattenCounting(layers);
    await rejectsWith(
      run,
      "DIGEST_MISMATCH",
      new RegExp(
        `^layer 2 of 2 \\(${layers[1]!.digest}\\) does not match the image config: its uncompressed tar is ` +
          `${sha(second)} but rootfs\\.diff_ids\\[1\\] is ${sha(other)}`,
      ),
    );
    assert.deepEqual(output(), { written: 0, scanned: false });
  });

  it("stops a layer inflating past max(floor, ratio × its compressed size), naming it", async () => {
    const big = await tarLayer([{ name: "zeros", body: Buffer.alloc(50_000) }]);
    const layer = { ...memoryLayer(big), compressedBytes: 1000 };
    const limit = { ratio: 20, floorBytes: 4096 };
    const { run, output } = await flattenCounting([layer], { inflateLimit: limit });
    await rejectsWith(
      run,
      "LIMIT",
      /^layer 1 of 1 \(sha256:[0-9a-f]{64}\) inflates to more than 20 kB, 20 ×/,
    );
    assert.deepEqual(output(), { written: 0, scanned: false });
    // The same layer within a bound that is large enough.
    await flattenToList([layer], [], { inflateLimit: { ratio: 100, floorBytes: 4096 } });
    await flattenToList([layer], [], { inflateLimit: { ratio: 1, floorBytes: 60_000 } });
  });

  it("refuses a header announcing more than the bound without inflating the body", async () => {
    const tar = await tarLayer([{ name: "zeros", body: Buffer.alloc(100_000) }]);
    // The stream gives the header and then nothing: only the announced size can stop it.
    const layer: LayerSource = {
      digest: "sha256:" + "e".repeat(64),
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      open: () => {
        const stream = new Readable({ read() {} });
        stream.push(tar.subarray(0, 1024));
        return stream;
      },
    };
    await rejectsWith(
      flattenToList([layer], [], { inflateLimit: { ratio: 1, floorBytes: 10_000 } }),
      "LIMIT",
      /decompression bomb/,
    );
  });

  it("bounds the second read too, which a blob changed between reads could inflate", async () => {
    const first = await tarLayer([
      { name: "a", body: "small" },
      { name: "b", body: "keep" },
    ]);
    const changed = await tarLayer([
      { name: "a", body: Buffer.alloc(50_000) },
      { name: "b", body: "keep" },
    ]);
    let opened = 0;
    const lower: LayerSource = {
      ...memoryLayer(first),
      open: () => memoryLayer(opened++ === 0 ? first : changed).open(),
    };
    const upper = memoryLayer(await tarLayer([{ name: "a", body: "new" }]));
    await rejectsWith(
      flattenToList([lower, upper], [], { inflateLimit: { ratio: 1, floorBytes: 20_000 } }),
      "LIMIT",
      /^layer 1 of 2 .*decompression bomb/,
    );
  });

  it("reports a later layer failing while an earlier one is still being read, without crashing", async () => {
    const slowTar = await tarLayer([{ name: "a", body: "1" }]);
    const slow: LayerSource = {
      ...memoryLayer(slowTar),
      open: () =>
        Readable.from(
          (async function* () {
            await new Promise((resolve) => setTimeout(resolve, 200));
            yield slowTar;
          })(),
        ),
    };
    const bad = await tarLayer([{ name: "b", body: "2" }]);
    const layers = [slow, { ...memoryLayer(bad), diffId: "sha256:" + "0".repeat(64) }];
    await rejectsWith(flattenToList(layers), "DIGEST_MISMATCH", /^layer 2 of 2/);
  });
});
