import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../oci/digest.js";
import { BadSourceError } from "../util/bad-source.js";
import { downloadTo } from "./download.js";

describe("downloadTo and a source set aside mid-body", () => {
  let dir: string;
  const blob = Buffer.from("the true content of the blob, ".repeat(100));
  const descriptor = { digest: digestOf(blob), size: blob.length };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sregistry-download-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A body that sends `bytes`, then fails with `error`. */
  function failing(bytes: Buffer, error: Error): Readable {
    return Readable.from(
      (async function* () {
        yield bytes;
        throw error;
      })(),
    );
  }

  it("discards what a bad source sent and starts again from byte 0, without resuming", async () => {
    const offsets: number[] = [];
    let progress = 0;
    const wrong = Buffer.alloc(700, 0x41); // bytes that are not the blob's
    const size = await downloadTo(
      join(dir, "restart"),
      descriptor,
      async (offset) => {
        offsets.push(offset);
        return offsets.length === 1
          ? { body: failing(wrong, new BadSourceError("mirror.example", "wrong bytes")), offset }
          : { body: Readable.from([blob]), offset };
      },
      {
        onProgress: (n) => (progress += n),
        sleep: async () => assert.fail("no pause before another source"),
      },
    );
    assert.equal(size, blob.length);
    assert.deepEqual(offsets, [0, 0], "asked again from the start, not resumed at 700");
    assert.ok((await readFile(join(dir, "restart"))).equals(blob));
    assert.equal(progress, blob.length, "the discarded bytes were taken back");
  });

  it("resumes an ordinary broken body where it stopped", async () => {
    const offsets: number[] = [];
    await downloadTo(
      join(dir, "resume"),
      descriptor,
      async (offset) => {
        offsets.push(offset);
        return offsets.length === 1
          ? { body: failing(blob.subarray(0, 700), new Error("socket hang up")), offset }
          : { body: Readable.from([blob.subarray(offset)]), offset };
      },
      { sleep: async () => undefined },
    );
    assert.deepEqual(offsets, [0, 700]);
  });

  it("gives up when every source is set aside", async () => {
    await assert.rejects(
      downloadTo(
        join(dir, "exhausted"),
        descriptor,
        async (offset) => ({ body: failing(Buffer.from("x"), new BadSourceError("m", "bad")), offset }),
        { maxAttempts: 3, sleep: async () => undefined },
      ),
      (err: Error & { code?: string }) => err.code === "NETWORK",
    );
  });
});
