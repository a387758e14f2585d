import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { inflateSync, deflateSync } from "node:zlib";
import { describe, it } from "node:test";
import { BlockCompressor } from "./compressor.js";
import { DataWriter } from "./data-writer.js";
import { DATA_UNCOMPRESSED } from "./format.js";
import { ImageOutput } from "./output.js";

const BLOCK = 128 * 1024;

/**
 * gzip that reads each block only after a random pause, as the thread pool may: a block buffer
 * handed out again before its compression ended would give wrong bytes here.
 */
function lateCompressor(): BlockCompressor {
  const compressor = new BlockCompressor({ name: "gzip", level: 1 });
  compressor.compress = async (block: Buffer) => {
    await delay(Math.floor(Math.random() * 4));
    const packed = deflateSync(block, { level: 1 });
    return packed.length < block.length ? packed : null;
  };
  return compressor;
}

/** Each file's full blocks as read back from the image file (tails go to fragments: not read here). */
function readBlocks(image: Buffer, data: DataWriter, file: number, count: number): Buffer {
  const t = data.files;
  let at = t.start.array[file]!;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = t.blockSizes.array[t.firstBlock.array[file]! + i]!;
    const stored = size & ~DATA_UNCOMPRESSED;
    const bytes = image.subarray(at, at + stored);
    parts.push(size & DATA_UNCOMPRESSED ? bytes : inflateSync(bytes));
    at += stored;
  }
  return Buffer.concat(parts);
}

describe("DataWriter: batched writes and reused block buffers", () => {
  it("reads back every block, with raw and compressed blocks, late compression and a rewound duplicate", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sregistry-data-writer-"));
    const path = join(dir, "image");
    const fd = openSync(path, "w+");
    try {
      const data = new DataWriter(new ImageOutput(fd, 0), lateCompressor(), BLOCK, 8);
      // 1.5 MiB of random blocks (stored raw), more than one write batch; then text blocks; then a
      // copy of the first file, whose blocks are partly written already when its end rewinds over
      // them; then new content that lands where the copy's blocks were.
      const random = randomBytes(12 * BLOCK);
      const text = Buffer.from("squashfs blocks ".repeat((3 * BLOCK) / 16));
      const after = Buffer.concat([randomBytes(BLOCK), Buffer.from("z".repeat(BLOCK))]);
      const contents = [random, text, Buffer.from(random), after, Buffer.from(text)];
      const files: number[] = [];
      for (const content of contents) {
        files.push(data.beginFile(content.length));
        for (let at = 0; at < content.length; at += 50_000) {
          data.write(content.subarray(at, at + 50_000));
          await data.drain();
        }
      }
      await data.finish();
      const image = readFileSync(path);
      assert.equal(data.duplicates, 2, "the copies of the first and second files are stored once");
      assert.equal(data.files.start.array[files[2]!], data.files.start.array[files[0]!]);
      assert.equal(data.files.start.array[files[4]!], data.files.start.array[files[1]!]);
      contents.forEach((content, i) => {
        const read = readBlocks(image, data, files[i]!, content.length / BLOCK);
        assert.ok(read.equals(content), `file ${i} reads back whole`);
      });
      assert.equal(data.position, data.files.start.array[files[3]!]! + readStored(data, files[3]!, 2));
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Bytes the first `count` blocks of `file` take in the image. */
function readStored(data: DataWriter, file: number, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    sum += data.files.blockSizes.array[data.files.firstBlock.array[file]! + i]! & ~DATA_UNCOMPRESSED;
  }
  return sum;
}
