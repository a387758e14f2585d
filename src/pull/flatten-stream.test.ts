import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildSquashfs } from "../build/squashfs/builder.js";
import { squashLayers } from "../build/squashfs/from-layers.js";
import { tarLayer } from "../build/flatten/testing.js";
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

  it("(squashLayers too) stops the tool when the second pass fails", { timeout: 10_000 }, async () => {
    const blob = join(dir, "layer2.tar");
    await writeFile(blob, await tarLayer([{ name: "f", body: "x".repeat(1000) }]));
    const { openLayerStream } = await import("../build/flatten/decompress.js");
    let opened = 0;
    const layer = {
      digest: "sha256:" + "c".repeat(64),
      mediaType: TAR,
      open: () => {
        if (opened++ === 1) return openLayerStream(join(dir, "changed.tar"), TAR);
        return openLayerStream(blob, TAR);
      },
    };
    await writeFile(join(dir, "changed.tar"), await tarLayer([{ name: "f", body: "y".repeat(999) }]));
    await assert.rejects(squashLayers([layer], [], { path: join(dir, "sl.sqfs") }), /changed between reads/);
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
});
