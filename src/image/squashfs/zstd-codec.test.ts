import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadZstd, singleSegment } from "./zstd-codec.js";
import { hasTool, runTool } from "./writer.testing.js";

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "zstd-codec-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Text that compresses, of `size` bytes. */
function text(size: number): Buffer {
  const line = Buffer.from("squashfs block of text that zstd can shrink 0123456789\n");
  return Buffer.concat(Array.from({ length: Math.ceil(size / line.length) }, () => line)).subarray(0, size);
}

/** Frame_Content_Size as the frame header declares it, or null when absent (RFC 8878 §3.1.1.1). */
function contentSize(frame: Buffer): number | null {
  const descriptor = frame[4]!;
  const flag = descriptor >> 6;
  const single = (descriptor & 0x20) !== 0;
  const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
  if (flag === 0) return single ? frame[at]! : null;
  if (flag === 1) return frame.readUInt16LE(at) + 256;
  if (flag === 2) return frame.readUInt32LE(at);
  return Number(frame.readBigUInt64LE(at));
}

describe("zstd codec", () => {
  it("frames declare a single segment of the block's size, for every size class of the header", async () => {
    const zstd = loadZstd(3);
    for (const size of [100, 255, 256, 8192, 65791, 65792, 131072, 1 << 20]) {
      const block = text(size);
      for (const frame of [await zstd.compress(block), zstd.compressSync(block)]) {
        assert.equal(frame.readUInt32LE(0), 0xfd2fb528, `${size}: magic`);
        assert.ok(frame[4]! & 0x20, `${size}: Single_Segment_flag`);
        assert.equal(contentSize(frame), size, `${size}: Frame_Content_Size`);
      }
    }
  });

  it(
    "the zstd command decodes the rewritten frames to the original bytes",
    { skip: !hasTool("zstd") && "zstd not installed" },
    async () => {
      const zstd = loadZstd(3);
      for (const size of [200, 4096, 131072]) {
        const block = text(size);
        const packed = join(work, `b${size}.zst`);
        await writeFile(packed, await zstd.compress(block));
        runTool("zstd", ["-q", "-f", "-d", packed, "-o", `${packed}.out`]);
        assert.ok((await readFile(`${packed}.out`)).equals(block), String(size));
      }
    },
  );

  it("the add-on's own header has no content size and a level-sized window (why the rewrite exists)", () => {
    // What the kernel refused ("zstd decompression failed") before the rewrite: descriptor 0,
    // window descriptor 0x58 (2 MiB) at level 3, larger than the one-block workspace.
    const raw = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0xaa, 0xbb]);
    const fixed = singleSegment(raw, 1000);
    assert.equal(contentSize(raw), null);
    assert.deepEqual([...fixed], [0x28, 0xb5, 0x2f, 0xfd, 0x60, 0xe8, 0x02, 0xaa, 0xbb]);
    assert.throws(() => singleSegment(Buffer.from("not zstd"), 8), /not a zstd frame/);
    assert.throws(
      () => singleSegment(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58]), 8),
      /descriptor 0x4/,
    );
  });

  it("stores the level as squashfs's options and is deterministic", async () => {
    assert.deepEqual([...loadZstd(19).options()!], [19, 0, 0, 0]);
    const zstd = loadZstd(3);
    const block = text(131072);
    assert.ok((await zstd.compress(block)).equals(await zstd.compress(block)));
  });
});
