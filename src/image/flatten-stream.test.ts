import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { buildSquashfs } from "./squashfs/builder.js";
import { tarLayer } from "./flatten/flatten.testing.js";
import { silentLogger } from "../util/log.js";
import { flattenInto } from "./flatten-stream.js";

const TAR = "application/vnd.oci.image.layer.v1.tar";

describe("flattenInto", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "flatten-into-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives a failure of the second pass to a consumer that attached late, instead of hanging", async () => {
    const blob = join(dir, "layer.tar");
    await writeFile(blob, await tarLayer([{ name: "f", body: "x".repeat(1000) }]));
    const layers = [{ digest: "sha256:" + "a".repeat(64), mediaType: TAR, path: blob }];
    const run = flattenInto(
      { layers, overlay: [], diffIds: undefined, allowForeign: false, logger: silentLogger },
      async (tar, root, stop) => {
        // The blob changes between the two passes, and the tool starts only after that.
        await writeFile(blob, await tarLayer([{ name: "f", body: "y".repeat(999) }]));
        return buildSquashfs(tar, { path: join(dir, "out.sqfs") }, { root, signal: stop });
      },
    );
    await assert.rejects(run, /layer ended before all its files were read again|changed between reads/);
  });

  it("stops a tool already running when the second pass fails", { timeout: 10_000 }, async () => {
    const blob = join(dir, "layer2.tar");
    await writeFile(blob, await tarLayer([{ name: "f", body: "x".repeat(1000) }]));
    await writeFile(join(dir, "changed.tar"), await tarLayer([{ name: "f", body: "y".repeat(999) }]));
    const layers = [{ digest: "sha256:" + "c".repeat(64), mediaType: TAR, path: blob }];
    const run = flattenInto(
      { layers, overlay: [], diffIds: undefined, allowForeign: false, logger: silentLogger },
      (tar, root, stop) => {
        // Synchronous, so the second pass (which starts right after this call) reads the new file.
        renameSync(join(dir, "changed.tar"), blob);
        return buildSquashfs(tar, { path: join(dir, "sl.sqfs") }, { root, signal: stop });
      },
    );
    await assert.rejects(run, /changed between reads/);
  });

  it("hands the consumer the image root's attributes and the whole tar", async () => {
    const blob = join(dir, "root.tar");
    await writeFile(
      blob,
      await tarLayer([
        { name: "./", mode: 0o711 },
        { name: "a", body: "abc" },
      ]),
    );
    const layers = [{ digest: "sha256:" + "b".repeat(64), mediaType: TAR, path: blob }];
    let bytes = 0;
    const result = await flattenInto(
      {
        layers,
        overlay: [],
        diffIds: undefined,
        allowForeign: false,
        logger: silentLogger,
        onBytes: (n) => (bytes += n),
      },
      async (tar, root) => {
        let read = 0;
        for await (const chunk of tar) read += (chunk as Buffer).length;
        return { root, read };
      },
    );
    assert.equal(result.root.mode & 0o7777, 0o711);
    assert.equal(result.read, bytes);
    assert.ok(bytes >= 1024);
  });

  describe("layer checks before the consumer starts", () => {
    const GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    const sha = (data: Buffer): string => "sha256:" + createHash("sha256").update(data).digest("hex");
    let tar: Buffer;
    let layers: { digest: string; mediaType: string; path: string }[];

    before(async () => {
      tar = await tarLayer([{ name: "zeros", body: Buffer.alloc(1 << 20) }]);
      const blob = gzipSync(tar);
      const path = join(dir, "zeros.tar.gz");
      await writeFile(path, blob);
      layers = [{ digest: sha(blob), mediaType: GZIP, path }];
    });

    const run = (extra: {
      diffIds: readonly string[] | undefined;
      inflateLimit?: { ratio: number; floorBytes: number };
    }) => {
      let started = false;
      const result = flattenInto(
        { layers, overlay: [], allowForeign: false, logger: silentLogger, ...extra },
        async (t) => {
          started = true;
          for await (const chunk of t) void chunk;
          return "built";
        },
      );
      return { result, started: () => started };
    };

    it("checks the decompressed tar, not the blob, against the diff_id", async () => {
      assert.equal(await run({ diffIds: [sha(tar)] }).result, "built");
      const wrong = run({ diffIds: [layers[0]!.digest] });
      await assert.rejects(wrong.result, { code: "DIGEST_MISMATCH", message: /^layer 1 of 1 \(sha256:/ });
      assert.equal(wrong.started(), false);
    });

    it("refuses a diff_id list of another length than the layers", async () => {
      const mismatched = run({ diffIds: [sha(tar), sha(tar)] });
      await assert.rejects(mismatched.result, {
        code: "MANIFEST_INVALID",
        message: /2 rootfs.diff_ids for 1 layers/,
      });
      assert.equal(mismatched.started(), false);
    });

    it("names the layer when its blob is missing from the cache", async () => {
      const missing = [...layers, { ...layers[0]!, path: join(dir, "gone.tar.gz") }];
      const result = flattenInto(
        { layers: missing, overlay: [], diffIds: undefined, allowForeign: false, logger: silentLogger },
        async () => "built",
      );
      await assert.rejects(result, {
        code: "LAYER_INVALID",
        message: /^layer 2 of 2 \(sha256:.*cannot be read from the cache/,
      });
    });

    it("bounds inflation by the cached blob's size", async () => {
      const ratio = Math.floor(tar.length / (await readFile(layers[0]!.path)).length) - 1;
      const bomb = run({ diffIds: [sha(tar)], inflateLimit: { ratio, floorBytes: 4096 } });
      await assert.rejects(bomb.result, { code: "LIMIT", message: new RegExp(`${ratio} × its compressed`) });
      assert.equal(bomb.started(), false);
      const fine = run({ diffIds: [sha(tar)], inflateLimit: { ratio: ratio + 2, floorBytes: 4096 } });
      assert.equal(await fine.result, "built");
    });
  });
});
