/**
 * SIF layout: constants of the on-disk format, architecture codes, and the placement of every
 * data object (`planSif`). Pure computation; `writer.ts` turns a plan into bytes.
 *
 * Layout (spec "01", as sylabs/sif and Apptainer write it): a 128-byte global header at 0, 48
 * descriptors of 585 bytes at 4096, data from 32176. Objects follow in descriptor order;
 * partitions start on a 4096 boundary, other objects directly after the previous one. The gap
 * before an aligned object counts in its "size with padding" and in the header's data size.
 *
 * @example
 * ```ts
 * const plan = planSif(
 *   [{ type: "deffile", size: 40 }, { type: "json", name: "oci-config.json", size: 300 },
 *    { type: "partition", size: 0, partition: { fs: "squashfs", type: "primsys", arch: "amd64" } }],
 *   { id: { deterministicFrom: "sha256:…|linux/amd64" }, created: "zero" },
 * );
 * plan.partitionOffset; // 32768 — where mksquashfs -o must write
 * ```
 */
import { createHash, randomUUID } from "node:crypto";
import { SregistryError } from "../../util/errors.js";

export const SIF_LAUNCH_SCRIPT = "#!/usr/bin/env run-singularity\n";
export const SIF_MAGIC = "SIF_MAGIC";
export const SIF_VERSION = "01";
export const HEADER_SIZE = 128;
export const DESCRIPTOR_SIZE = 585;
export const DESCRIPTOR_CAPACITY = 48;
export const DESCRIPTORS_OFFSET = 4096;
export const DATA_OFFSET = DESCRIPTORS_OFFSET + DESCRIPTOR_CAPACITY * DESCRIPTOR_SIZE; // 32176
export const PARTITION_ALIGNMENT = 4096;
/** Go's zero `time.Time` as Unix seconds: what deterministic images store. */
export const ZERO_TIME = -62135596800;
/** Group 1, as stored (group IDs carry the 0xF0000000 marker). */
export const DEFAULT_GROUP = 0xf0000001;

export const DataType = {
  Deffile: 0x4001,
  EnvVar: 0x4002,
  Labels: 0x4003,
  Partition: 0x4004,
  Signature: 0x4005,
  GenericJSON: 0x4006,
  Generic: 0x4007,
  CryptoMessage: 0x4008,
  SBOM: 0x4009,
  OCIRootIndex: 0x400a,
  OCIBlob: 0x400b,
} as const;

export const FsType = { squashfs: 1, ext3: 2, immuobj: 3, raw: 4, encryptedSquashfs: 5 } as const;
export const PartType = { system: 1, primsys: 2, data: 3, overlay: 4 } as const;

/** GOARCH → two-digit SIF architecture code. */
export const SIF_ARCH_CODES: Readonly<Record<string, string>> = {
  "386": "01",
  amd64: "02",
  arm: "03",
  arm64: "04",
  ppc64: "05",
  ppc64le: "06",
  mips: "07",
  mipsle: "08",
  mips64: "09",
  mips64le: "10",
  s390x: "11",
  riscv64: "12",
  loong64: "13",
};

export interface SifPartitionSpec {
  fs: "squashfs";
  type: "primsys";
  /** GOARCH (`amd64`, `arm64`…); unknown names are stored as "00". */
  arch: string;
}

export interface SifObjectSpec {
  type: "deffile" | "json" | "partition";
  name?: string;
  size: number;
  partition?: SifPartitionSpec;
}

export interface SifPlanOptions {
  /** 16 UUID bytes, or a string the ID is derived from (deterministic), default a random UUIDv4. */
  id?: Uint8Array | { deterministicFrom: string };
  /** Image and object times: a date (whole seconds) or Go's zero time (`"zero"`). */
  created: Date | "zero";
}

export interface PlannedObject extends SifObjectSpec {
  /** 1-based descriptor ID (slot index + 1). */
  id: number;
  dataType: number;
  /** Absolute file offset of the object's first byte. */
  offset: number;
  /** size + alignment padding before the object. */
  sizeWithPadding: number;
}

export interface SifPlan {
  id: Uint8Array;
  /** Unix seconds for the header and every descriptor. */
  time: number;
  /** Two ASCII digits of the primary partition's architecture ("00" when none). */
  arch: string;
  objects: PlannedObject[];
  dataOffset: number;
  /** Bytes from dataOffset to the end of the last object, padding included. */
  dataSize: number;
  /** Offset of the (first) partition, or undefined when there is none. */
  partitionOffset: number | undefined;
  /** Total file length. */
  fileSize: number;
}

/** Places every object; the result depends only on the specs and options. */
export function planSif(objects: readonly SifObjectSpec[], options: SifPlanOptions): SifPlan {
  if (objects.length > DESCRIPTOR_CAPACITY) {
    throw new SregistryError(`a SIF holds at most ${DESCRIPTOR_CAPACITY} objects, got ${objects.length}`);
  }
  let cursor = DATA_OFFSET;
  const planned = objects.map((spec, index): PlannedObject => {
    validateSpec(spec);
    const alignment = spec.type === "partition" ? PARTITION_ALIGNMENT : 1;
    const offset = Math.ceil(cursor / alignment) * alignment;
    const planned = {
      ...spec,
      id: index + 1,
      dataType: dataTypeOf(spec),
      offset,
      sizeWithPadding: offset - cursor + spec.size,
    };
    cursor = offset + spec.size;
    return planned;
  });
  const partitions = planned.filter((o) => o.type === "partition");
  const primary = partitions.find((o) => o.partition?.type === "primsys");
  return {
    id: resolveId(options.id),
    time: options.created === "zero" ? ZERO_TIME : Math.floor(options.created.getTime() / 1000),
    arch: primary?.partition === undefined ? "00" : sifArchCode(primary.partition.arch),
    objects: planned,
    dataOffset: DATA_OFFSET,
    dataSize: cursor - DATA_OFFSET,
    partitionOffset: partitions[0]?.offset,
    fileSize: cursor,
  };
}

/** Two-digit code for a GOARCH name, "00" when unknown. */
export function sifArchCode(goarch: string): string {
  return SIF_ARCH_CODES[goarch] ?? "00";
}

/**
 * A UUID derived from a string: the first 16 bytes of its sha256 with the version (5) and
 * RFC 4122 variant bits set — same input, same ID.
 */
export function deterministicUuid(source: string): Uint8Array {
  const bytes = createHash("sha256").update(source, "utf8").digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return new Uint8Array(bytes);
}

/** UUID bytes in the canonical 8-4-4-4-12 text form. */
export function uuidString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function resolveId(id: SifPlanOptions["id"]): Uint8Array {
  if (id === undefined) return new Uint8Array(Buffer.from(randomUUID().replace(/-/g, ""), "hex"));
  if (id instanceof Uint8Array) {
    if (id.length !== 16) throw new SregistryError(`a SIF ID has 16 bytes, got ${id.length}`);
    return new Uint8Array(id);
  }
  return deterministicUuid(id.deterministicFrom);
}

function dataTypeOf(spec: SifObjectSpec): number {
  if (spec.type === "deffile") return DataType.Deffile;
  if (spec.type === "json") return DataType.GenericJSON;
  return DataType.Partition;
}

function validateSpec(spec: SifObjectSpec): void {
  if (!Number.isSafeInteger(spec.size) || spec.size < 0) {
    throw new SregistryError(`invalid SIF object size ${spec.size}`);
  }
  if ((spec.type === "partition") !== (spec.partition !== undefined)) {
    throw new SregistryError("a SIF partition object needs partition details, and only a partition has them");
  }
  if (spec.name !== undefined && Buffer.byteLength(spec.name) > 128) {
    throw new SregistryError(`SIF object name longer than 128 bytes: ${spec.name}`);
  }
}
