import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DESCRIPTORS_OFFSET, DESCRIPTOR_SIZE } from "./layout.js";
import { tinySif } from "./tiny-sif.testing.js";
import { checkSifFile } from "./validate.js";

async function verdictOf(bytes: Buffer) {
  const dir = mkdtempSync(join(tmpdir(), "sregistry-sifcheck-"));
  try {
    const path = join(dir, "x.sif");
    writeFileSync(path, bytes);
    return await checkSifFile(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tinySif with one 64-bit field of the first descriptor (or the header when `header`) replaced. */
function patched(field: number, value: bigint, header = false): Buffer {
  const sif = tinySif("hello");
  sif.writeBigInt64LE(value, header ? field : DESCRIPTORS_OFFSET + field);
  return sif;
}

test("a well-formed SIF passes and its used descriptors are counted", async () => {
  assert.deepEqual(await verdictOf(tinySif("hello")), { kind: "sif", objects: 1 });
});

test("empty files and random bytes are not SIF", async () => {
  assert.equal((await verdictOf(Buffer.alloc(0))).kind, "empty");
  assert.equal((await verdictOf(randomBytes(40_000))).kind, "notSif");
  assert.equal((await verdictOf(Buffer.from("root:x:0:0:root:/root:/bin/bash\n"))).kind, "notSif");
  assert.equal((await verdictOf(tinySif("x").subarray(0, 100))).kind, "notSif", "header cut short");
});

test("a descriptor offset of 2^62 is damaged, named, and nothing overflows", async () => {
  const verdict = await verdictOf(patched(17, 2n ** 62n));
  assert.equal(verdict.kind, "damaged");
  assert.match(
    (verdict as { reason: string }).reason,
    /^descriptor 1 \(offset 4611686018427387904, size 5\) ends past the end of the file/,
  );
});

test("negative or oversized descriptor fields are damaged", async () => {
  for (const [field, value] of [
    [17, -1n],
    [25, -5n],
    [25, 2n ** 40n],
    [33, 0n], // size with padding smaller than size
  ] as const) {
    assert.equal((await verdictOf(patched(field, value))).kind, "damaged", `field ${field} = ${value}`);
  }
});

test("a damaged header is refused: version, counts, areas outside the file", async () => {
  const badVersion = tinySif("v");
  badVersion.write("02", 42, "ascii");
  assert.match((await verdictOf(badVersion)).kind, /damaged/);
  for (const [offset, value] of [
    [88, 0n], // no descriptors
    [88, 2n ** 62n],
    [80, 49n], // more free than total
    [104, 585n], // size not total × 585
    [96, 2n ** 62n], // descriptor area outside the file
    [96, 0n], // overlapping the header
    [112, 2n ** 62n], // data area outside the file
    [120, -1n],
  ] as const) {
    assert.equal((await verdictOf(patched(offset, value, true))).kind, "damaged", `header ${offset}`);
  }
});

test("unused descriptor slots are not checked (they are all zero in real files)", async () => {
  const sif = tinySif("free");
  // Garbage in a free slot's offset field, "used" flag still 0.
  sif.writeBigInt64LE(2n ** 62n, DESCRIPTORS_OFFSET + DESCRIPTOR_SIZE + 17);
  assert.equal((await verdictOf(sif)).kind, "sif");
});
