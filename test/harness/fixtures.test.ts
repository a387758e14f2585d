/**
 * Checks the fixture builder offline: tar entries of every kind (PAX long names and xattrs, hardlinks,
 * devices), reproducible digests, compression choices and the OCI layout written on disk.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs harness/fixtures
 * ```
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { extract, type Header } from "tar-stream";
import {
  buildOciLayout,
  buildTar,
  multiPlatformIndex,
  randomBytes,
  sampleImage,
  sha256,
} from "./fixtures.js";
import { run, tmpDir, type TmpDir } from "./tools.js";

async function readTar(tar: Buffer): Promise<{ header: Header; body: Buffer }[]> {
  const entries: { header: Header; body: Buffer }[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  ex.end(tar);
  await done;
  return entries;
}

describe("buildTar", () => {
  it("writes every entry type, long names and xattrs through PAX", async () => {
    const longName = "deep/" + "d".repeat(120) + "/" + "f".repeat(110) + ".txt";
    const tar = await buildTar([
      { path: "/dir", type: "dir", mode: 0o750, uid: 1000, gid: 1000, uname: "u", gname: "g" },
      { path: "dir/file", content: "data", mode: 0o600, pax: { "SCHILY.xattr.user.foo": "bar" } },
      { path: "dir/link", type: "symlink", linkname: "/etc/target" },
      { path: "dir/hard", type: "hardlink", linkname: "/dir/file" },
      { path: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      { path: "dev/sda", type: "block", devmajor: 8, devminor: 0 },
      { path: "run/fifo", type: "fifo" },
      { path: longName, content: "long" },
    ]);
    const entries = await readTar(tar);
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    assert.equal(byName.get("dir/")?.header.mode, 0o750);
    assert.equal(byName.get("dir/")?.header.uname, "u");
    assert.equal(byName.get("dir/file")?.body.toString(), "data");
    assert.equal(
      (byName.get("dir/file")?.header.pax as Record<string, string>)["SCHILY.xattr.user.foo"],
      "bar",
    );
    assert.equal(byName.get("dir/link")?.header.linkname, "/etc/target");
    assert.equal(byName.get("dir/hard")?.header.type, "link");
    assert.equal(byName.get("dir/hard")?.header.linkname, "dir/file");
    assert.deepEqual(
      [byName.get("dev/null")?.header.type, byName.get("dev/null")?.header.devminor],
      ["character-device", 3],
    );
    assert.equal(byName.get("dev/sda")?.header.type, "block-device");
    assert.equal(byName.get("run/fifo")?.header.type, "fifo");
    assert.equal(byName.get(longName)?.body.toString(), "long");
  });

  it("is reproducible", async () => {
    const entries = sampleImage().layers[0]!;
    assert.ok("entries" in entries);
    assert.deepEqual(await buildTar(entries.entries), await buildTar(entries.entries));
  });
});

describe("randomBytes", () => {
  it("is deterministic per seed and differs between seeds", () => {
    assert.deepEqual(randomBytes(1000, "a"), randomBytes(1000, "a"));
    assert.notDeepEqual(randomBytes(1000, "a"), randomBytes(1000, "b"));
    assert.equal(randomBytes(5 * 1024 * 1024, 7).length, 5 * 1024 * 1024);
  });
});

describe("buildOciLayout", () => {
  let tmp: TmpDir;
  before(async () => {
    tmp = await tmpDir("fixtures-test-");
  });
  after(() => tmp.cleanup());

  it("writes a layout whose blobs match their digests and whose layers gunzip to the diff ids", async () => {
    const dir = join(tmp.path, "one");
    const built = await buildOciLayout(dir, sampleImage(), { tag: "v1" });
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
    assert.equal(index.manifests[0].digest, built.digest);
    assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "v1");
    const image = built.images[0]!;
    for (const layer of image.layers) {
      const blob = await readFile(join(dir, "blobs/sha256", layer.digest.slice(7)));
      assert.equal(sha256(blob), layer.digest);
      assert.equal(sha256(gunzipSync(blob)), layer.diffId);
    }
    assert.deepEqual(
      image.config.rootfs?.diff_ids,
      image.layers.map((l) => l.diffId),
    );
    const again = await buildOciLayout(join(tmp.path, "again"), sampleImage(), { tag: "v1" });
    assert.equal(again.digest, built.digest, "same description, same digest");
    // umoci, an independent reader, accepts the layout.
    await run("umoci", ["stat", "--image", `${dir}:v1`]);
  });

  it("supports zstd and uncompressed layers and multi-platform indexes", async () => {
    const zstd = await buildOciLayout(join(tmp.path, "zstd"), sampleImage({ compression: "zstd" }));
    const layer = zstd.images[0]!.layers[0]!;
    assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+zstd");
    const blobPath = join(tmp.path, "zstd/blobs/sha256", layer.digest.slice(7));
    const tar = (await run("zstd", ["-d", "-c", blobPath])).stdoutBuffer;
    assert.equal(sha256(tar), layer.diffId);
    const plain = await buildOciLayout(join(tmp.path, "plain"), sampleImage({ compression: "none" }));
    assert.equal(plain.images[0]!.layers[0]!.digest, plain.images[0]!.layers[0]!.diffId);
    const multi = await buildOciLayout(join(tmp.path, "multi"), multiPlatformIndex());
    assert.equal(multi.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      multi.images.map((i) => i.platform.variant),
      [undefined, "v8", "v7", "v6"],
    );
  });
});
