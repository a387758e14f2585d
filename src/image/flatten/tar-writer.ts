/**
 * Encodes tar headers for the flattened stream: ustar where the fields fit, a PAX extended header
 * (`x`) in front where they do not (long names and link targets, big ids or sizes, xattrs).
 *
 * Why not tar-stream's pack: it writes PAX values as UTF-8 strings (binary xattr values such as
 * `security.capability` would be mangled), has no PAX uid/gid/size, and needs a stream object per
 * entry. Here a header is one Buffer the flattener writes straight into the output, followed by the
 * body bytes it streams from the layer and `padding(size)`.
 *
 * Names are binary strings (see tar-header.ts) and are written byte for byte. Directories get a
 * trailing `/`. Times are clamped to squashfs's unsigned 32-bit range.
 *
 * @example
 * ```ts
 * out.write(encodeHeader({ ...entry, name: "etc/hostname", size: 5 }));
 * out.write(Buffer.from("box\n\n"));
 * out.write(padding(5));
 * out.write(END_OF_ARCHIVE);
 * ```
 */
import type { EntryType, TarEntry } from "./tar-header.js";

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);
/** Two zero blocks: the tar end-of-archive marker. */
export const END_OF_ARCHIVE = ZEROS;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const MAX_MTIME = 0xffffffff;

const TYPEFLAG: Record<EntryType, number> = {
  file: 0x30,
  link: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};

/** Zero bytes that pad a body of `size` bytes to the 512-byte block boundary. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? ZEROS.subarray(0, 0) : ZEROS.subarray(0, BLOCK - rest);
}

/** The header block(s) for `entry`: an optional PAX header plus the ustar header. */
export function encodeHeader(entry: TarEntry): Buffer {
  const pax: [string, Buffer][] = [];
  const name = entry.type === "dir" && !entry.name.endsWith("/") ? entry.name + "/" : entry.name;
  const split = splitName(name);
  if (split === null) pax.push(["path", Buffer.from(name, "latin1")]);
  if (entry.linkname.length > 100) pax.push(["linkpath", Buffer.from(entry.linkname, "latin1")]);
  for (const key of ["uid", "gid"] as const) {
    if (entry[key] > MAX_OCTAL_7) pax.push([key, Buffer.from(String(entry[key]))]);
  }
  if (entry.size > MAX_OCTAL_11) pax.push(["size", Buffer.from(String(entry.size))]);
  for (const key of ["uname", "gname"] as const) {
    if (entry[key].length > 31) pax.push([key, Buffer.from(entry[key], "latin1")]);
  }
  if (entry.xattrs !== null) {
    for (const [key, value] of entry.xattrs) pax.push(["SCHILY.xattr." + key, value]);
  }
  const header = ustarHeader(entry, split ?? { prefix: "", name: name.slice(0, 99) });
  if (pax.length === 0) return header;
  const records = encodePaxRecords(pax);
  const paxHeader = ustarHeader(
    { ...entry, type: "file", size: records.length, linkname: "", xattrs: null },
    { prefix: "", name: "././@PaxHeader" },
    0x78,
  );
  return Buffer.concat([paxHeader, records, padding(records.length), header]);
}

/** Encodes PAX records; each length prefix counts itself. */
export function encodePaxRecords(records: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.byteLength(key, "latin1") + value.length + 3; // ' ', '=', '\n'
    let length = body + String(body).length;
    if (String(length).length !== String(body).length) length = body + String(length).length;
    parts.push(Buffer.from(`${length} ${key}=`, "latin1"), value, Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** Splits a name into ustar prefix (≤155) and name (≤100) at a `/`, or null when it cannot. */
function splitName(name: string): { prefix: string; name: string } | null {
  if (name.length <= 100) return { prefix: "", name };
  if (name.length > 256) return null;
  const searchFrom = Math.min(name.length - 1, 155);
  for (let i = name.lastIndexOf("/", searchFrom); i > 0; i = name.lastIndexOf("/", i - 1)) {
    const rest = name.length - i - 1;
    if (rest > 100) return null;
    if (rest > 0) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return null;
}

function ustarHeader(entry: TarEntry, names: { prefix: string; name: string }, flag?: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(names.name, 0, 100, "latin1");
  writeOctal(block, 100, 8, entry.mode & 0o7777);
  writeOctal(block, 108, 8, entry.uid > MAX_OCTAL_7 ? 0 : entry.uid);
  writeOctal(block, 116, 8, entry.gid > MAX_OCTAL_7 ? 0 : entry.gid);
  writeOctal(block, 124, 12, entry.size > MAX_OCTAL_11 ? 0 : entry.size);
  writeOctal(block, 136, 12, Math.max(0, Math.min(MAX_MTIME, Math.floor(entry.mtime))));
  block[156] = flag ?? TYPEFLAG[entry.type];
  if (entry.linkname.length <= 100) block.write(entry.linkname, 157, 100, "latin1");
  block.write("ustar\x0000", 257, 8, "latin1");
  if (entry.uname.length <= 31) block.write(entry.uname, 265, 32, "latin1");
  if (entry.gname.length <= 31) block.write(entry.gname, 297, 32, "latin1");
  writeOctal(block, 329, 8, Math.min(entry.devmajor, MAX_OCTAL_7));
  writeOctal(block, 337, 8, Math.min(entry.devminor, MAX_OCTAL_7));
  block.write(names.prefix, 345, 155, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  writeOctal(block, 148, 8, sum);
  return block;
}

/** Writes `value` as zero-padded octal filling `length - 1` digits plus a NUL. */
function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, "0");
  block.write(text, offset, length - 1, "latin1");
  block[offset + length - 1] = 0;
}
