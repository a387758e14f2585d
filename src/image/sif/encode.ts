/**
 * Byte encoding of the SIF global header and descriptors (little-endian, packed, as Go's
 * `binary.Write` lays out sylabs/sif's structs). See `layout.ts` for the field table.
 *
 * @example
 * ```ts
 * const header = encodeHeader(plan);          // 128 bytes for offset 0
 * const descriptors = encodeDescriptors(plan); // 48 × 585 bytes for offset 4096
 * ```
 */
import {
  DEFAULT_GROUP,
  DESCRIPTOR_CAPACITY,
  DESCRIPTOR_SIZE,
  DESCRIPTORS_OFFSET,
  FsType,
  HEADER_SIZE,
  PartType,
  SIF_LAUNCH_SCRIPT,
  SIF_MAGIC,
  SIF_VERSION,
  sifArchCode,
  type PlannedObject,
  type SifPlan,
} from "./layout.js";

/** The 128-byte global header. */
export function encodeHeader(plan: SifPlan): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  buf.write(SIF_LAUNCH_SCRIPT, 0, "ascii");
  buf.write(SIF_MAGIC, 32, "ascii");
  buf.write(SIF_VERSION, 42, "ascii");
  buf.write(plan.arch, 45, "ascii");
  Buffer.from(plan.id).copy(buf, 48);
  buf.writeBigInt64LE(BigInt(plan.time), 64);
  buf.writeBigInt64LE(BigInt(plan.time), 72);
  buf.writeBigInt64LE(BigInt(DESCRIPTOR_CAPACITY - plan.objects.length), 80);
  buf.writeBigInt64LE(BigInt(DESCRIPTOR_CAPACITY), 88);
  buf.writeBigInt64LE(BigInt(DESCRIPTORS_OFFSET), 96);
  buf.writeBigInt64LE(BigInt(DESCRIPTOR_CAPACITY * DESCRIPTOR_SIZE), 104);
  buf.writeBigInt64LE(BigInt(plan.dataOffset), 112);
  buf.writeBigInt64LE(BigInt(plan.dataSize), 120);
  return buf;
}

/** One 585-byte descriptor. */
export function encodeDescriptor(object: PlannedObject, time: number): Buffer {
  const buf = Buffer.alloc(DESCRIPTOR_SIZE);
  buf.writeInt32LE(object.dataType, 0);
  buf.writeUInt8(1, 4);
  buf.writeUInt32LE(object.id, 5);
  buf.writeUInt32LE(DEFAULT_GROUP, 9);
  buf.writeUInt32LE(0, 13);
  buf.writeBigInt64LE(BigInt(object.offset), 17);
  buf.writeBigInt64LE(BigInt(object.size), 25);
  buf.writeBigInt64LE(BigInt(object.sizeWithPadding), 33);
  buf.writeBigInt64LE(BigInt(time), 41);
  buf.writeBigInt64LE(BigInt(time), 49);
  // 57 UID and 65 GID are deprecated and stay 0.
  if (object.name !== undefined) buf.write(object.name, 73, 128, "utf8");
  if (object.partition !== undefined) {
    buf.writeInt32LE(FsType[object.partition.fs], 201);
    buf.writeInt32LE(PartType[object.partition.type], 205);
    buf.write(sifArchCode(object.partition.arch), 209, "ascii");
  }
  return buf;
}

/** The whole descriptor array: used slots then all-zero free slots. */
export function encodeDescriptors(plan: SifPlan): Buffer {
  const area = Buffer.alloc(DESCRIPTOR_CAPACITY * DESCRIPTOR_SIZE);
  plan.objects.forEach((object, index) => {
    encodeDescriptor(object, plan.time).copy(area, index * DESCRIPTOR_SIZE);
  });
  return area;
}
