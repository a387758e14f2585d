import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeDescriptor, encodeDescriptors, encodeHeader } from "./encode.js";
import { decodeDescriptor, decodeHeader } from "./reader.js";
import {
  DATA_OFFSET,
  deterministicUuid,
  planSif,
  uuidString,
  ZERO_TIME,
  type SifObjectSpec,
} from "./layout.js";

const specs: SifObjectSpec[] = [
  { type: "deffile", size: 32 },
  { type: "json", name: "inspect-metadata.json", size: 500 },
  { type: "json", name: "oci-config.json", size: 100 },
  { type: "partition", size: 8192, partition: { fs: "squashfs", type: "primsys", arch: "arm64" } },
];
const id = Uint8Array.from(Buffer.from("00112233445566778899aabbccddeeff", "hex"));
const created = new Date("2024-05-01T12:00:00.900Z");

test("plan: offsets, padding, data size, partition alignment", () => {
  const plan = planSif(specs, { id, created });
  assert.equal(DATA_OFFSET, 32176);
  assert.deepEqual(
    plan.objects.map((o) => [o.id, o.dataType.toString(16), o.offset, o.size, o.sizeWithPadding]),
    [
      [1, "4001", 32176, 32, 32],
      [2, "4006", 32208, 500, 500],
      [3, "4006", 32708, 100, 100],
      [4, "4004", 36864, 8192, 8192 + (36864 - 32808)],
    ],
  );
  assert.equal(plan.partitionOffset, 36864);
  assert.equal(plan.dataSize, 36864 + 8192 - 32176);
  assert.equal(plan.fileSize, 45056);
  assert.equal(plan.arch, "04");
  assert.equal(plan.time, 1714564800);
});

test("a partition already on a boundary gets no padding; unknown arch is 00", () => {
  const plan = planSif(
    [
      { type: "deffile", size: 4096 - (32176 % 4096) },
      { type: "partition", size: 10, partition: { fs: "squashfs", type: "primsys", arch: "sparc" } },
    ],
    { id, created: "zero" },
  );
  assert.equal(plan.objects[1]?.offset, 32768);
  assert.equal(plan.objects[1]?.sizeWithPadding, 10);
  assert.equal(plan.arch, "00");
  assert.equal(plan.time, ZERO_TIME);
});

test("golden header bytes", () => {
  const header = encodeHeader(planSif(specs, { id, created: "zero" }));
  const expected = Buffer.concat([
    Buffer.from("#!/usr/bin/env run-singularity\n\0", "ascii"),
    Buffer.from("SIF_MAGIC\0", "ascii"),
    Buffer.from("01\0", "ascii"),
    Buffer.from("04\0", "ascii"),
    Buffer.from(id),
    Buffer.from("00096e88f1ffffff", "hex"), // -62135596800 LE
    Buffer.from("00096e88f1ffffff", "hex"),
    Buffer.from("2c00000000000000", "hex"), // 44 free
    Buffer.from("3000000000000000", "hex"), // 48 total
    Buffer.from("0010000000000000", "hex"), // 4096
    Buffer.from("b06d000000000000", "hex"), // 28080
    Buffer.from("b07d000000000000", "hex"), // 32176
    Buffer.from("5032000000000000", "hex"), // data size 45056 - 32176 = 12880
  ]);
  assert.equal(header.length, 128);
  assert.equal(header.toString("hex"), expected.toString("hex"));
});

test("golden descriptor bytes for a partition and a named JSON object", () => {
  const plan = planSif(specs, { id, created });
  const partition = encodeDescriptor(plan.objects[3]!, plan.time);
  const head = Buffer.alloc(73);
  head.writeInt32LE(0x4004, 0);
  head.writeUInt8(1, 4);
  head.writeUInt32LE(4, 5);
  head.writeUInt32LE(0xf0000001, 9);
  head.writeUInt32LE(0, 13);
  head.writeBigInt64LE(36864n, 17);
  head.writeBigInt64LE(8192n, 25);
  head.writeBigInt64LE(BigInt(8192 + 4056), 33);
  head.writeBigInt64LE(1714564800n, 41);
  head.writeBigInt64LE(1714564800n, 49);
  assert.equal(partition.subarray(0, 73).toString("hex"), head.toString("hex"));
  assert.ok(partition.subarray(73, 201).equals(Buffer.alloc(128)), "unnamed");
  assert.equal(partition.subarray(201, 212).toString("hex"), "01000000" + "02000000" + "303400");
  assert.ok(partition.subarray(212).equals(Buffer.alloc(585 - 212)));

  const json = encodeDescriptor(plan.objects[1]!, plan.time);
  assert.equal(json.subarray(73, 95).toString("latin1"), "inspect-metadata.json\0");
  assert.ok(json.subarray(201).equals(Buffer.alloc(384)));
});

test("descriptor area: used slots then zeros; decoders invert the encoders", () => {
  const plan = planSif(specs, { id, created });
  const area = encodeDescriptors(plan);
  assert.equal(area.length, 28080);
  assert.ok(area.subarray(4 * 585).equals(Buffer.alloc(28080 - 4 * 585)));
  const decoded = decodeDescriptor(area.subarray(3 * 585, 4 * 585));
  assert.deepEqual(decoded.partition, { fsType: 1, partType: 2, arch: "04" });
  assert.equal(decoded.groupId, 0xf0000001);
  const header = decodeHeader(encodeHeader(plan));
  assert.equal(header.id, "00112233-4455-6677-8899-aabbccddeeff");
  assert.equal(header.dataSize, plan.dataSize);
});

test("deterministic UUID: stable, version 5 and RFC 4122 variant bits, input-sensitive", () => {
  const a = deterministicUuid("sha256:abc|linux/amd64|");
  assert.deepEqual(a, deterministicUuid("sha256:abc|linux/amd64|"));
  assert.notDeepEqual(a, deterministicUuid("sha256:abc|linux/arm64|"));
  assert.match(uuidString(a), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const random = planSif([], { created: "zero" }).id;
  assert.equal((random[6] ?? 0) >> 4, 4);
});

test("invalid specs are rejected", () => {
  assert.throws(() => planSif([{ type: "partition", size: 1 }], { id, created }), /partition details/);
  assert.throws(() => planSif([{ type: "json", size: -1 }], { id, created }), /invalid SIF object size/);
  assert.throws(() => planSif([], { id: new Uint8Array(3), created }), /16 bytes/);
});
