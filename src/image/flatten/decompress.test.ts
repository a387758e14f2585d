import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { checkLayerMediaType, openLayerStream } from "./decompress.js";
import { tarLayer } from "./flatten.testing.js";

const DOCKER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("openLayerStream", () => {
  let dir: string;
  let tar: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "decompress-"));
    tar = await tarLayer([{ name: "a", body: "payload" }]);
    await writeFile(join(dir, "plain"), tar);
    await writeFile(
      join(dir, "gz"),
      Buffer.concat([gzipSync(tar.subarray(0, 512)), gzipSync(tar.subarray(512))]),
    );
    await writeFile(join(dir, "zst"), execFileSync("zstd", ["-q", "-c"], { input: tar }));
    await writeFile(join(dir, "broken.gz"), gzipSync(tar).subarray(0, 40));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("detects the format by magic bytes, whatever the media type says", async () => {
    assert.deepEqual(await readAll(openLayerStream(join(dir, "plain"), DOCKER_GZIP)), tar);
    assert.deepEqual(
      await readAll(openLayerStream(join(dir, "gz"), "application/vnd.oci.image.layer.v1.tar")),
      tar,
    );
    assert.deepEqual(await readAll(openLayerStream(join(dir, "zst"), DOCKER_GZIP)), tar);
  });

  it("fails on a truncated compressed blob", async () => {
    await assert.rejects(readAll(openLayerStream(join(dir, "broken.gz"), DOCKER_GZIP)));
    await writeFile(join(dir, "broken.zst"), (await readFile(join(dir, "zst"))).subarray(0, 20));
    await assert.rejects(readAll(openLayerStream(join(dir, "broken.zst"), DOCKER_GZIP)), /zstd failed/);
  });

  it("refuses foreign layers unless allowed, and unknown media types", () => {
    const foreign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    assert.throws(() => checkLayerMediaType(foreign), { code: "LAYER_FOREIGN" });
    assert.doesNotThrow(() => checkLayerMediaType(foreign, true));
    assert.throws(() => checkLayerMediaType("application/vnd.oci.image.layer.v1.tar+bzip2"), {
      code: "LAYER_UNSUPPORTED",
    });
  });
});
