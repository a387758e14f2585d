import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Logger, LEVELS } from "../../util/log.js";
import { flattenLayers, STORED_UNUSED_FLOOR, storedUnusedLimit } from "../flatten/flatten.js";
import { memoryLayer, tarLayer } from "../flatten/flatten.testing.js";
import type { EntrySink } from "../flatten/sink.js";
import type { FlattenOptions, LayerSource } from "../flatten/types.js";
import { openNativeSink, type NativeSink } from "./native.js";
import { runTool } from "./writer.testing.js";

let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "squashfs-unused-"));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The native sink without `storeBody`: the two-pass build, for reference. */
function twoPass(sink: NativeSink): EntrySink {
  return {
    get entries() {
      return sink.entries;
    },
    get hardlinks() {
      return sink.hardlinks;
    },
    get bytes() {
      return sink.bytes;
    },
    entry: (meta, path, stored) => sink.entry(meta, path, stored),
    body: (chunk) => sink.body(chunk),
    endBody: (size) => sink.endBody(size),
    links: (meta, paths) => sink.links(meta, paths),
    drain: () => sink.drain(),
    finish: (end) => sink.finish(end),
    start: (root) => sink.start(root),
  };
}

const OFFSET = 4096;
const HEAD = Buffer.from("SIF head placeholder");

/** Builds at OFFSET after a head written first (as the pull does), counting layer opens. */
async function build(
  name: string,
  layers: readonly Buffer[],
  options: FlattenOptions,
  wrap: (sink: NativeSink) => EntrySink = (sink) => sink,
) {
  const path = join(work, name);
  await writeFile(path, HEAD);
  let opens = 0;
  /** "ready 0", "open 0", "release 0", … in the order the flattener called them. */
  const calls: string[] = [];
  const sources: LayerSource[] = layers.map((data, i) => {
    const layer = memoryLayer(data);
    const open = layer.open.bind(layer);
    return {
      ...layer,
      open: () => (opens++, calls.push(`open ${i}`), open()),
      ready: async () => void calls.push(`ready ${i}`),
      release: async () => void calls.push(`release ${i}`),
    };
  });
  const sink = await openNativeSink({ path, offset: OFFSET }, { compression: { algorithm: "gzip" } });
  const stats = await flattenLayers(sources, [], wrap(sink), options);
  const result = await sink.close();
  const bytes = await readFile(path);
  assert.deepEqual(bytes.subarray(0, HEAD.length), HEAD, "the bytes before the partition are kept");
  return { path, stats, opens, calls, size: result.size, bytes };
}

function listing(path: string): string {
  const image = join(work, "extract.sqfs");
  runTool("sh", ["-c", `tail -c +${OFFSET + 1} ${path} > ${image}`]);
  return runTool("unsquashfs", ["-lln", image]);
}

describe("stored content that later layers remove", () => {
  const big = randomBytes(600_000); // incompressible: its blocks show in the image's size
  const lowerItems = [
    { name: "etc/", type: "directory" as const },
    { name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n" },
    { name: "opt/big", body: big },
    { name: "opt/keep", body: "kept" },
  ];
  const limit = { storedUnusedLimit: () => 100_000 };

  for (const [what, upperItems] of [
    ["deleted (whiteout)", [{ name: "opt/.wh.big", body: "" }]],
    ["replaced", [{ name: "opt/big", body: "small now" }]],
  ] as const) {
    it(`restarts in two passes when a later layer's ${what} file is over the limit: the two-pass image`, async () => {
      const lower = await tarLayer(lowerItems);
      const upper = await tarLayer(upperItems);
      const lines: string[] = [];
      const logger = new Logger({ level: LEVELS.DEBUG, stderr: { write: (t: string) => lines.push(t) } });
      const restarted = await build("restarted.sif", [lower, upper], { ...limit, logger });
      assert.equal(restarted.stats.restarted, true);
      assert.equal(restarted.stats.storedUnusedBytes, 0);
      // Layer 1 read once in pass 1 and again for opt/keep; layer 2 again only if it owns a body.
      assert.equal(restarted.opens, what === "replaced" ? 4 : 3);
      // Each layer released once its single-pass read ended; a second read asks `ready()` first.
      const again =
        what === "replaced"
          ? ["ready 0", "open 0", "release 0", "ready 1", "open 1", "release 1"]
          : ["ready 0", "open 0", "release 0"];
      assert.deepEqual(restarted.calls, [
        "ready 0",
        "open 0",
        "release 0",
        "ready 1",
        "open 1",
        "release 1",
        ...again,
      ]);
      const restartLines = lines.filter((line) => /restarting the image in two passes/.test(line));
      assert.equal(restartLines.length, 1);
      assert.match(restartLines[0]!, /stored 600\d{3} of 600\d{3} content bytes .*\(limit 100000\)/);

      const reference = await build("two-pass.sif", [lower, upper], {}, twoPass);
      assert.equal(reference.stats.restarted, false);
      // Two passes (two layers scanned at once): no release until a layer's last (second) read.
      assert.deepEqual(reference.calls.slice(0, 4).sort(), ["open 0", "open 1", "ready 0", "ready 1"]);
      assert.deepEqual(reference.calls.slice(4), again);
      assert.deepEqual(restarted.bytes, reference.bytes, "byte-identical to a two-pass build");
      const forced = await build("forced.sif", [lower, upper], { storedUnusedLimit: () => 0 });
      assert.deepEqual(forced.bytes, reference.bytes);

      const kept = await build("kept.sif", [lower, upper], { storedUnusedLimit: () => Infinity });
      assert.equal(kept.stats.restarted, false);
      assert.ok(kept.size >= reference.size + 500_000, `${kept.size} vs ${reference.size}`);
      assert.ok(reference.size < 100_000, `no unreferenced content: ${reference.size} bytes`);
      assert.equal((await stat(restarted.path)).size, OFFSET + restarted.size);

      const tree = listing(restarted.path);
      assert.match(tree, /squashfs-root\/etc\/passwd/);
      assert.match(tree, /squashfs-root\/opt\/keep/);
      if (what === "replaced") assert.match(tree, /-rw-r--r-- 0\/0 +9 .* squashfs-root\/opt\/big/);
      else assert.doesNotMatch(tree, /opt\/big/);
    });
  }

  it("stays single-pass when little stored content goes unused (each layer opened once)", async () => {
    const lower = await tarLayer([...lowerItems, { name: "tmp/cache", body: "c".repeat(50_000) }]);
    const upper = await tarLayer([{ name: "tmp/.wh.cache", body: "" }]);
    const built = await build("small.sif", [lower, upper], {}); // the default limit
    assert.equal(built.stats.restarted, false);
    assert.equal(built.opens, 2);
    assert.deepEqual(built.calls, ["ready 0", "open 0", "release 0", "ready 1", "open 1", "release 1"]);
    assert.equal(built.stats.storedUnusedBytes, 50_000);
    assert.doesNotMatch(listing(built.path), /tmp\/cache/);
  });

  it("allows max(64 MiB, 1/16 of the stored bytes) unused by default", () => {
    assert.equal(STORED_UNUSED_FLOOR, 64 * 1024 * 1024);
    assert.equal(storedUnusedLimit(0), 64 * 1024 * 1024);
    assert.equal(storedUnusedLimit(1024 ** 3), 64 * 1024 * 1024);
    assert.equal(storedUnusedLimit(16 * 1024 ** 3), 1024 ** 3);
  });
});
