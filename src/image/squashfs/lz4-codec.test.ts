import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadLz4, withoutSize } from "./lz4-codec.js";
import { hasTool, runTool } from "./writer.testing.js";

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "lz4-codec-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function text(size: number): Buffer {
  const line = Buffer.from("squashfs block of text that lz4 can shrink 0123456789\n");
  return Buffer.concat(Array.from({ length: Math.ceil(size / line.length) }, () => line)).subarray(0, size);
}

/**
 * One bare LZ4 block wrapped in the lz4 command's legacy frame (magic 0x184C2102, then each block
 * after its compressed size), which `lz4 -d` reads as plain blocks: the oracle that what we store
 * is an LZ4 block and nothing else.
 */
function legacyFrame(block: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184c2102, 0);
  head.writeUInt32LE(block.length, 4);
  return Buffer.concat([head, block]);
}

describe("lz4 codec", () => {
  it(
    "gives bare LZ4 blocks that the lz4 command decodes to the original",
    { skip: !hasTool("lz4") && "lz4 not installed" },
    async () => {
      const lz4 = loadLz4();
      for (const size of [100, 8192, 131072]) {
        const block = text(size);
        for (const [how, packed] of [
          ["async", await lz4.compress(block)],
          ["sync", lz4.compressSync(block)],
        ] as const) {
          const file = join(work, `${how}-${size}.lz4`);
          await writeFile(file, legacyFrame(packed));
          runTool("lz4", ["-q", "-f", "-d", file, `${file}.out`]);
          assert.ok((await readFile(`${file}.out`)).equals(block), `${how} ${size}`);
        }
      }
    },
  );

  it("checks the length prefix it cuts off", () => {
    const prefixed = Buffer.from([5, 0, 0, 0, 0x50, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
    assert.deepEqual([...withoutSize(prefixed, 5)], [0x50, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
    assert.throws(() => withoutSize(prefixed, 6), /length prefix/);
  });

  it("writes the options the kernel requires: version 1 (legacy block format), no flags", () => {
    assert.deepEqual([...loadLz4().options()!], [1, 0, 0, 0, 0, 0, 0, 0]);
  });
});
