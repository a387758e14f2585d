/**
 * Checks that a file is a well-formed SIF before anything trusts it (`add` puts files into
 * storage and the catalog; a later `singularity run` maps its descriptors).
 *
 * Only the header and the descriptor area are read, never the data objects, so a multi-GB image
 * is checked in microseconds. The checks are those a SIF reader relies on (sylabs/sif
 * `pkg/sif/load.go` reads the header, then the descriptor array, then seeks to each object):
 * magic `SIF_MAGIC`, version `01`, a descriptor array whose size is `total × 585` and lies inside
 * the file, a free count within the total, and every used descriptor's `offset + size` (and
 * `size with padding`) non-negative and inside the file. All 64-bit fields are compared as
 * BigInt, so an offset of 2^62 cannot wrap or lose precision.
 *
 * The verdict says whether the file claims to be a SIF at all (`notSif`: no magic — another
 * format a user may insist on with `add --force`) or claims it and is damaged (`damaged`: never
 * accepted).
 *
 * @example
 * ```ts
 * const verdict = await checkSifFile("hello.sif");
 * if (verdict.kind !== "sif") throw new Error(verdict.reason);
 * verdict.objects; // number of used descriptors
 * ```
 */
import { open } from "node:fs/promises";
import { DESCRIPTOR_SIZE, HEADER_SIZE, SIF_MAGIC, SIF_VERSION } from "./layout.js";

export type SifVerdict =
  | { kind: "sif"; objects: number }
  | { kind: "empty"; reason: string }
  | { kind: "notSif"; reason: string }
  | { kind: "damaged"; reason: string };

/** Upper bound on descriptors read: the reference writer uses 48; 64 Ki leaves room for any real file. */
const MAX_DESCRIPTORS = 65_536n;

/** Reads the header and descriptors of `path` (a regular file) and judges them. */
export async function checkSifFile(path: string): Promise<SifVerdict> {
  const file = await open(path, "r");
  try {
    const size = BigInt((await file.stat()).size);
    if (size === 0n) return { kind: "empty", reason: "the file is empty" };
    const head = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await file.read(head, 0, HEADER_SIZE, 0);
    const magic = head.subarray(32, 32 + SIF_MAGIC.length + 1);
    if (bytesRead < HEADER_SIZE || !magic.equals(Buffer.from(`${SIF_MAGIC}\0`, "ascii"))) {
      return { kind: "notSif", reason: "it is not a SIF image (no SIF magic)" };
    }
    const area = checkHeader(head, size);
    if (typeof area === "string") return { kind: "damaged", reason: area };
    const raw = Buffer.alloc(Number(area.bytes));
    const read = await file.read(raw, 0, raw.length, Number(area.offset));
    if (read.bytesRead !== raw.length) return { kind: "damaged", reason: "the descriptor area is cut short" };
    return checkDescriptors(raw, Number(area.count), size);
  } finally {
    await file.close();
  }
}

/** The descriptor area's place, or the reason the header is unusable. */
export function checkHeader(
  head: Buffer,
  fileSize: bigint,
): { offset: bigint; bytes: bigint; count: bigint } | string {
  const version = head.subarray(42, 45);
  if (!version.equals(Buffer.from(`${SIF_VERSION}\0`, "ascii"))) {
    return `unsupported SIF version "${printable(version)}" (only ${SIF_VERSION} exists)`;
  }
  const free = head.readBigInt64LE(80);
  const total = head.readBigInt64LE(88);
  const offset = head.readBigInt64LE(96);
  const bytes = head.readBigInt64LE(104);
  const dataOffset = head.readBigInt64LE(112);
  const dataSize = head.readBigInt64LE(120);
  if (total < 1n || total > MAX_DESCRIPTORS) return `descriptor count ${total} is out of range`;
  if (free < 0n || free > total) return `free descriptor count ${free} does not fit the total ${total}`;
  if (bytes !== total * BigInt(DESCRIPTOR_SIZE)) {
    return `descriptor area size ${bytes} is not ${total} × ${DESCRIPTOR_SIZE}`;
  }
  if (offset < BigInt(HEADER_SIZE) || offset + bytes > fileSize) {
    return `descriptor area (offset ${offset}, ${bytes} bytes) lies outside the file (${fileSize} bytes)`;
  }
  if (dataOffset < 0n || dataSize < 0n || dataOffset + dataSize > fileSize) {
    return `data area (offset ${dataOffset}, ${dataSize} bytes) lies outside the file (${fileSize} bytes)`;
  }
  return { offset, bytes, count: total };
}

/** Every used descriptor must point inside the file. */
export function checkDescriptors(area: Buffer, count: number, fileSize: bigint): SifVerdict {
  let used = 0;
  for (let i = 0; i < count; i++) {
    const raw = area.subarray(i * DESCRIPTOR_SIZE, (i + 1) * DESCRIPTOR_SIZE);
    if (raw.readUInt8(4) === 0) continue;
    used++;
    const offset = raw.readBigInt64LE(17);
    const size = raw.readBigInt64LE(25);
    const padded = raw.readBigInt64LE(33);
    const where = `descriptor ${i + 1} (offset ${offset}, size ${size})`;
    if (offset < 0n || size < 0n || padded < size)
      return damaged(`${where} has negative or inconsistent sizes`);
    if (offset + size > fileSize)
      return damaged(`${where} ends past the end of the file (${fileSize} bytes)`);
  }
  return { kind: "sif", objects: used };
}

function damaged(reason: string): SifVerdict {
  return { kind: "damaged", reason };
}

function printable(bytes: Buffer): string {
  return bytes.toString("latin1").replace(/[^\x20-\x7e]/g, "?");
}
