/**
 * Hostile layers: traversal names, symlinks planted to redirect later layers, hardlinks out of the
 * root, a symlink named like the root, a decompression bomb and an oversized PAX header. Each must
 * either fail with a clear SregistryError or be confined to the image; nothing may appear outside
 * the test's temp dir, and no name or hardlink target in the flattened tar may leave the root.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline, Transform } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { openLayerStream } from "../../src/image/flatten/decompress.js";
import {
  flattenToList,
  memoryLayer,
  tarLayer,
  type LayerItem,
} from "../../src/image/flatten/flatten.testing.js";
import type { FlattenOptions, LayerSource } from "../../src/image/flatten/types.js";
import { flattenInto } from "../../src/image/flatten-stream.js";
import { buildSquashfs } from "../../src/image/squashfs/builder.js";
import { silentLogger } from "../../src/util/log.js";
import { SregistryError } from "../../src/util/errors.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

const escape = `/tmp/sregistry-escape-${randomUUID()}`;
const passwdHash = (): string => createHash("sha256").update(readFileSync("/etc/passwd")).digest("hex");

function assertConfined(names: Iterable<string>): void {
  for (const name of names) {
    assert.ok(!name.startsWith("/"), `absolute name ${name}`);
    assert.ok(!name.split("/").includes(".."), `traversal in ${name}`);
  }
}

async function flat(layers: LayerItem[][], options: FlattenOptions = {}) {
  const sources = await Promise.all(layers.map(async (items) => memoryLayer(await tarLayer(items))));
  const result = await flattenToList(sources, [], options);
  assertConfined(result.entries.keys());
  assertConfined(
    [...result.entries.values()].filter((e) => e.header.type === "link").map((e) => e.header.linkname!),
  );
  return result;
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SregistryError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

const HANG_GUARD = { timeout: 120_000 };

describe("hostile layers", () => {
  let tmp: TmpDir;
  let hostPasswd: string;

  before(async () => {
    tmp = await tmpDir("flatten-hostile-");
    hostPasswd = passwdHash();
  });

  after(async () => {
    assert.equal(existsSync(escape), false, "something was written outside the temp dir");
    assert.equal(passwdHash(), hostPasswd);
    await tmp?.cleanup();
  });

  it("confines ../ and absolute names", async () => {
    const r = await flat([
      [
        { name: `../../../..${escape}/up`, body: "u" },
        { name: `${escape}/abs`, body: "a" },
      ],
    ]);
    const inside = escape.slice(1);
    assert.deepEqual([...r.entries.keys()].sort(), ["tmp", inside, `${inside}/abs`, `${inside}/up`].sort());
  });

  for (const target of ["/", "../../..", escape, `../../../../..${escape}`]) {
    it(`resolves x/… inside the image when layer 1 has x → ${target.replace(escape, "<outside>")}`, async () => {
      const r = await flat([
        [{ name: "x", type: "symlink", linkname: target }],
        [{ name: "x/etc/passwd", body: "pwned" }],
      ]);
      const expected =
        target === "/" || target === "../../.." ? "etc/passwd" : `${escape.slice(1)}/etc/passwd`;
      assert.equal(r.entries.get(expected)?.body.toString(), "pwned");
      assert.equal(r.entries.get("x")?.header.type, "symlink");
    });
  }

  it("resolves a hardlink to ../../etc/passwd inside the image, or refuses it", async () => {
    const r = await flat([
      [
        { name: "etc/passwd", body: "image" },
        { name: "l", type: "link", linkname: "../../etc/passwd" },
      ],
    ]);
    const link = r.entries.get("l")!;
    const body = link.header.type === "link" ? r.entries.get(link.header.linkname!)!.body : link.body;
    assert.equal(body.toString(), "image");
    await rejectsWith(
      flat([[{ name: "l", type: "link", linkname: "../../etc/passwd" }]]),
      "LAYER_INVALID",
      /missing/,
    );
  });

  it("refuses a symlink named like the root", async () => {
    await rejectsWith(
      flat([[{ name: ".", type: "symlink", linkname: "/" }]]),
      "LAYER_INVALID",
      /type of the root/,
    );
    await rejectsWith(
      flat([[{ name: "a/../", type: "symlink", linkname: escape }]]),
      "LAYER_INVALID",
      /root/,
    );
  });

  it("stops a decompression bomb (4 GiB of zeros in a 4 MiB gzip) at the limit", HANG_GUARD, async () => {
    const member = gzipSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 });
    const header = await tarLayer([{ name: "zeros", body: "" }]);
    const bombHeader = Buffer.from(header.subarray(0, 512));
    bombHeader.write("40000000000\0", 124, "latin1"); // size = 4 GiB (octal)
    bombHeader.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of bombHeader) sum += byte;
    bombHeader.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
    const blob = Buffer.concat([gzipSync(bombHeader), ...Array.from({ length: 512 }, () => member)]);
    assert.ok(blob.length < 8 * 1024 * 1024);
    const path = join(tmp.path, "bomb.gz");
    await writeFile(path, blob);
    // What the flattener was handed, decompressed: it must stop at the limit, not inflate 4 GiB
    // (an amount, not a time: HANG_GUARD only keeps a hang from blocking the run).
    let inflated = 0;
    const layer: LayerSource = {
      digest: "sha256:" + createHash("sha256").update(blob).digest("hex"),
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      open: () => {
        const counted = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            inflated += chunk.length;
            done(null, chunk);
          },
        });
        const gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
        pipeline(openLayerStream(path, gzip), counted, () => undefined);
        return counted;
      },
    };
    const limit = 256 * 1024 * 1024;
    await rejectsWith(
      flattenToList([layer], [], { maxTotalBytes: limit }),
      "LIMIT",
      /more than 268435456 bytes/,
    );
    console.log(`# decompression bomb: ${inflated} bytes inflated for a limit of ${limit}`);
    assert.ok(inflated <= limit + 32 * 1024 * 1024, `stopped at the limit: ${inflated} bytes inflated`);
  });

  it("refuses a PAX header larger than the limit", async () => {
    const item = { name: "p", body: "", pax: { comment: "x".repeat(70_000) } } as LayerItem;
    await rejectsWith(
      flat([[item]], { maxPaxHeaderBytes: 64 * 1024 }),
      "LIMIT",
      /extended header of \d+ bytes/,
    );
  });

  it("builds a squashfs from the hostile-but-valid layers with nothing escaping", async () => {
    const layers = [
      await tarLayer([
        { name: "x", type: "symlink", linkname: "../../../.." },
        { name: "y", type: "symlink", linkname: escape },
      ]),
      await tarLayer([
        { name: "x/etc/passwd", body: "pwned" },
        { name: "y/z", body: "z" },
        { name: `/../${escape}/w`, body: "w" },
      ]),
    ];
    const image = join(tmp.path, "hostile.sqfs");
    const stored = await Promise.all(
      layers.map(async (bytes, i) => {
        const path = join(tmp.path, `hostile-layer-${i}.tar`);
        await writeFile(path, bytes);
        const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
        return { digest, mediaType: "application/vnd.oci.image.layer.v1.tar", path };
      }),
    );
    await flattenInto(
      { layers: stored, overlay: [], diffIds: undefined, allowForeign: false, logger: silentLogger },
      (tar, root, stop) => buildSquashfs(tar, { path: image }, { root, signal: stop }),
    );
    const out = join(tmp.path, "hostile-root");
    await run("unsquashfs", ["-no-progress", "-d", out, image]);
    assert.equal(await readFile(join(out, "etc/passwd"), "utf8"), "pwned");
    assert.equal(await readFile(join(out, escape, "z"), "utf8"), "z");
    assert.equal(await readFile(join(out, escape, "w"), "utf8"), "w");
  });
});
