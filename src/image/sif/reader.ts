/**
 * A small SIF reader: the global header and the used descriptors, plus reading one object.
 * Test helper: checks what the writer produced (the runtime check of a SIF is validate.ts).
 *
 * @example
 * ```ts
 * const sif = await readSif("alpine_3.20.sif");
 * const json = sif.descriptors.find((d) => d.name === "inspect-metadata.json");
 * if (json) console.log((await readSifObject("alpine_3.20.sif", json)).toString());
 * ```
 */
import { open } from "node:fs/promises";
import { SregistryError } from "../../util/errors.js";
import { DESCRIPTOR_SIZE, HEADER_SIZE, SIF_MAGIC, SIF_VERSION, uuidString } from "./layout.js";

export interface SifHeader {
  launchScript: string;
  magic: string;
  version: string;
  arch: string;
  /** UUID text form. */
  id: string;
  created: number;
  modified: number;
  descriptorsFree: number;
  descriptorsTotal: number;
  descriptorsOffset: number;
  descriptorsSize: number;
  dataOffset: number;
  dataSize: number;
}

export interface SifDescriptor {
  dataType: number;
  id: number;
  groupId: number;
  linkedId: number;
  offset: number;
  size: number;
  sizeWithPadding: number;
  created: number;
  modified: number;
  name: string;
  /** Raw 384-byte type-specific area. */
  extra: Buffer;
  /** Decoded extra of a partition (data type 0x4004). */
  partition?: { fsType: number; partType: number; arch: string };
}

export interface SifInfo {
  header: SifHeader;
  descriptors: SifDescriptor[];
}

export async function readSif(path: string): Promise<SifInfo> {
  const file = await open(path, "r");
  try {
    const head = await readExactly(file, 0, HEADER_SIZE, path);
    const header = decodeHeader(head, path);
    const area = await readExactly(file, header.descriptorsOffset, header.descriptorsSize, path);
    const descriptors: SifDescriptor[] = [];
    for (let i = 0; i < header.descriptorsTotal; i++) {
      const raw = area.subarray(i * DESCRIPTOR_SIZE, (i + 1) * DESCRIPTOR_SIZE);
      if (raw.readUInt8(4) !== 0) descriptors.push(decodeDescriptor(raw));
    }
    return { header, descriptors };
  } finally {
    await file.close();
  }
}

/** The bytes of one (small) object. */
export async function readSifObject(path: string, descriptor: SifDescriptor): Promise<Buffer> {
  const file = await open(path, "r");
  try {
    return await readExactly(file, descriptor.offset, descriptor.size, path);
  } finally {
    await file.close();
  }
}

export function decodeHeader(buf: Buffer, path = "image"): SifHeader {
  const magic = cString(buf.subarray(32, 42));
  if (magic !== SIF_MAGIC) throw new SregistryError(`${path} is not a SIF image (bad magic)`);
  const version = cString(buf.subarray(42, 45));
  if (version !== SIF_VERSION) throw new SregistryError(`${path}: unsupported SIF version "${version}"`);
  const int = (offset: number) => Number(buf.readBigInt64LE(offset));
  const header: SifHeader = {
    launchScript: cString(buf.subarray(0, 32)),
    magic,
    version,
    arch: cString(buf.subarray(45, 48)),
    id: uuidString(buf.subarray(48, 64)),
    created: int(64),
    modified: int(72),
    descriptorsFree: int(80),
    descriptorsTotal: int(88),
    descriptorsOffset: int(96),
    descriptorsSize: int(104),
    dataOffset: int(112),
    dataSize: int(120),
  };
  if (header.descriptorsSize !== header.descriptorsTotal * DESCRIPTOR_SIZE || header.descriptorsTotal < 0) {
    throw new SregistryError(`${path}: corrupt SIF header (descriptor area)`);
  }
  return header;
}

export function decodeDescriptor(raw: Buffer): SifDescriptor {
  const int = (offset: number) => Number(raw.readBigInt64LE(offset));
  const descriptor: SifDescriptor = {
    dataType: raw.readInt32LE(0),
    id: raw.readUInt32LE(5),
    groupId: raw.readUInt32LE(9),
    linkedId: raw.readUInt32LE(13),
    offset: int(17),
    size: int(25),
    sizeWithPadding: int(33),
    created: int(41),
    modified: int(49),
    name: cString(raw.subarray(73, 201)),
    extra: Buffer.from(raw.subarray(201, 585)),
  };
  if (descriptor.dataType === 0x4004) {
    descriptor.partition = {
      fsType: raw.readInt32LE(201),
      partType: raw.readInt32LE(205),
      arch: cString(raw.subarray(209, 212)),
    };
  }
  return descriptor;
}

async function readExactly(
  file: import("node:fs/promises").FileHandle,
  position: number,
  length: number,
  path: string,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  if (bytesRead !== length) throw new SregistryError(`${path} is truncated (not a complete SIF image)`);
  return buf;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString("utf8");
}
