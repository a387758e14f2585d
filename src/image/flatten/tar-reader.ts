/**
 * A synchronous, push-driven tar parser: feed it chunks, it calls back per entry and per body chunk.
 *
 * Why not tar-stream's extract: it creates a stream object and needs an async hand-off per entry,
 * decodes PAX values as UTF-8 (which corrupts binary xattrs such as `security.capability`), ignores
 * PAX uid/gid/mtime and caps headers at a fixed 4 MiB. Here, header blocks are parsed in place,
 * bodies are passed through as zero-copy sub-arrays (or skipped), and the caller decides per entry
 * whether it wants the body. Formats: ustar, GNU (long names `L`/`K`, base-256 numbers), PAX
 * (`x` records; `g` global headers are read and ignored, like Go's archive/tar). Sparse files and
 * multi-volume archives are rejected.
 *
 * Errors are `TarFormatError` with `kind` "invalid" (malformed archive) or "limit" (a configured
 * bound was exceeded); the flattener turns them into `SregistryError`s naming the layer.
 *
 * @example
 * ```ts
 * const reader = new TarReader({
 *   onEntry: (entry) => { console.log(entry.name); return false; }, // false: skip the body
 *   onData: () => {},
 * });
 * for await (const chunk of stream) reader.push(chunk);
 * reader.end();
 * ```
 */
import type { EntryType, TarEntry } from "./tar-header.js";

export class TarFormatError extends Error {
  constructor(
    message: string,
    readonly kind: "invalid" | "limit" = "invalid",
  ) {
    super(message);
    this.name = "TarFormatError";
  }
}

export interface TarHandler {
  /** Called for every real entry; return true to receive its body through `onData`. */
  onEntry(entry: TarEntry): boolean;
  /** A piece of the current entry's body (only when `onEntry` returned true). */
  onData?(chunk: Buffer): void;
  /** The current entry's body is complete (only when `onEntry` returned true). */
  onEntryEnd?(): void;
}

export interface TarReaderLimits {
  /** Largest PAX extended header or GNU long-name record accepted, in bytes. */
  maxPaxHeaderBytes?: number;
}

const BLOCK = 512;
const DEFAULT_MAX_PAX = 1024 * 1024;

const enum State {
  Header,
  Body,
  Meta,
  Padding,
  Done,
}

type MetaKind = "pax" | "global" | "longname" | "longlink";

/** Pending GNU/PAX information that applies to the next real entry. */
interface Pending {
  pax: Map<string, Buffer> | null;
  longName: string | null;
  longLink: string | null;
}

export class TarReader {
  private state = State.Header;
  private partial: Buffer | null = null;
  private remaining = 0;
  private padding = 0;
  private wantBody = false;
  private metaKind: MetaKind = "pax";
  private metaChunks: Buffer[] = [];
  private pending: Pending = { pax: null, longName: null, longLink: null };
  private readonly maxPax: number;
  /** Number of real entries seen so far. */
  entries = 0;

  constructor(
    private readonly handler: TarHandler,
    limits: TarReaderLimits = {},
  ) {
    this.maxPax = limits.maxPaxHeaderBytes ?? DEFAULT_MAX_PAX;
  }

  /** True once the end-of-archive marker was read; later input is ignored. */
  get done(): boolean {
    return this.state === State.Done;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.state !== State.Done) {
      if (this.state === State.Body) offset = this.body(chunk, offset);
      else if (this.state === State.Padding) offset = this.skipPadding(chunk, offset);
      else if (this.state === State.Meta) offset = this.meta(chunk, offset);
      else offset = this.headerFrom(chunk, offset);
    }
  }

  /** Call at end of input: throws when the archive stopped inside an entry. */
  end(): void {
    if (this.state === State.Done) return;
    const clean = this.state === State.Header && this.partial === null && this.pending.pax === null;
    if (!clean || this.pending.longName !== null || this.pending.longLink !== null) {
      throw new TarFormatError("unexpected end of tar data");
    }
    this.state = State.Done;
  }

  private headerFrom(chunk: Buffer, offset: number): number {
    let block: Buffer;
    if (this.partial === null && chunk.length - offset >= BLOCK) {
      block = chunk.subarray(offset, offset + BLOCK);
      offset += BLOCK;
    } else {
      const have = this.partial?.length ?? 0;
      const take = Math.min(BLOCK - have, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      this.partial = this.partial === null ? Buffer.from(piece) : Buffer.concat([this.partial, piece]);
      offset += take;
      if (this.partial.length < BLOCK) return offset;
      block = this.partial;
      this.partial = null;
    }
    this.header(block);
    return offset;
  }

  private header(block: Buffer): void {
    if (isZeroBlock(block)) {
      this.state = State.Done;
      return;
    }
    verifyChecksum(block);
    const flag = block[156] ?? 0;
    const size = readNumber(block, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError("invalid size in tar header");
    const meta = metaKindOf(flag);
    if (meta !== null) return this.startMeta(meta, size);
    const entry = this.decode(block, flag, size);
    this.entries++;
    const bodySize = entry.type === "file" ? entry.size : bodyOfNonFile(flag, size);
    if (entry.type !== "file") entry.size = 0;
    this.wantBody = this.handler.onEntry(entry) && entry.type === "file";
    this.startBody(bodySize);
  }

  private startBody(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size > 0) this.state = State.Body;
    else this.finishBody();
  }

  private finishBody(): void {
    if (this.wantBody) this.handler.onEntryEnd?.();
    this.wantBody = false;
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }

  private body(chunk: Buffer, offset: number): number {
    const take = Math.min(this.remaining, chunk.length - offset);
    if (this.wantBody) this.handler.onData?.(chunk.subarray(offset, offset + take));
    this.remaining -= take;
    if (this.remaining === 0) this.finishBody();
    return offset + take;
  }

  private skipPadding(chunk: Buffer, offset: number): number {
    const take = Math.min(this.padding, chunk.length - offset);
    this.padding -= take;
    if (this.padding === 0) this.state = State.Header;
    return offset + take;
  }

  private startMeta(kind: MetaKind, size: number): void {
    if (size > this.maxPax) {
      throw new TarFormatError(
        `tar extended header of ${size} bytes exceeds the limit of ${this.maxPax}`,
        "limit",
      );
    }
    this.metaKind = kind;
    this.metaChunks = [];
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size > 0) this.state = State.Meta;
    else this.finishMeta();
  }

  private meta(chunk: Buffer, offset: number): number {
    const take = Math.min(this.remaining, chunk.length - offset);
    this.metaChunks.push(Buffer.from(chunk.subarray(offset, offset + take)));
    this.remaining -= take;
    if (this.remaining === 0) this.finishMeta();
    return offset + take;
  }

  private finishMeta(): void {
    const data = Buffer.concat(this.metaChunks);
    this.metaChunks = [];
    if (this.metaKind === "pax") this.pending.pax = mergePax(this.pending.pax, parsePax(data));
    else if (this.metaKind === "longname") this.pending.longName = cString(data);
    else if (this.metaKind === "longlink") this.pending.longLink = cString(data);
    else parsePax(data); // global headers: validated, then ignored
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }

  private decode(block: Buffer, flag: number, size: number): TarEntry {
    const pending = this.pending;
    this.pending = { pax: null, longName: null, longLink: null };
    const name = pending.longName ?? ustarName(block);
    const linkname = pending.longLink ?? field(block, 157, 100);
    const entry: TarEntry = {
      name,
      type: entryType(flag, name),
      mode: readNumber(block, 100, 8) & 0o7777,
      uid: readNumber(block, 108, 8),
      gid: readNumber(block, 116, 8),
      size,
      mtime: readNumber(block, 136, 12),
      linkname,
      uname: field(block, 265, 32),
      gname: field(block, 297, 32),
      devmajor: readNumber(block, 329, 8),
      devminor: readNumber(block, 337, 8),
      xattrs: null,
    };
    if (pending.pax !== null) applyPax(entry, pending.pax);
    return entry;
  }
}

function metaKindOf(flag: number): MetaKind | null {
  switch (flag) {
    case 0x78: // 'x'
      return "pax";
    case 0x67: // 'g'
      return "global";
    case 0x4c: // 'L'
      return "longname";
    case 0x4b: // 'K'
      return "longlink";
    default:
      return null;
  }
}

function entryType(flag: number, name: string): EntryType {
  switch (flag) {
    case 0:
      return name.endsWith("/") ? "dir" : "file";
    case 0x30: // '0'
    case 0x37: // '7' contiguous
      return "file";
    case 0x31:
      return "link";
    case 0x32:
      return "symlink";
    case 0x33:
      return "char";
    case 0x34:
      return "block";
    case 0x35:
    case 0x44: // 'D' GNU dumpdir
      return "dir";
    case 0x36:
      return "fifo";
    case 0x53: // 'S'
      throw new TarFormatError("GNU sparse files are not supported");
    default:
      throw new TarFormatError(`unsupported tar entry type ${JSON.stringify(String.fromCharCode(flag))}`);
  }
}

/** Bytes that follow a non-file header: only GNU dumpdirs carry data; links never do. */
function bodyOfNonFile(flag: number, size: number): number {
  return flag === 0x44 ? size : 0;
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function verifyChecksum(block: Buffer): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const stored = readNumber(block, 148, 8);
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError("invalid tar header checksum (not a tar archive, or corrupted)");
  }
}

/** Reads an octal field (space/NUL padded) or a GNU base-256 number. */
function readNumber(block: Buffer, offset: number, length: number): number {
  const first = block[offset]!;
  if (first & 0x80) {
    if (first === 0xff) throw new TarFormatError("negative number in tar header");
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
    return value;
  }
  let value = 0;
  let i = offset;
  const end = offset + length;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError("invalid octal number in tar header");
    value = value * 8 + (c - 0x30);
  }
  return value;
}

function field(block: Buffer, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && block[end] !== 0) end++;
  return block.toString("latin1", offset, end);
}

function ustarName(block: Buffer): string {
  const name = field(block, 0, 100);
  const isUstar = block.toString("latin1", 257, 263) === "ustar\0";
  if (!isUstar || block[345] === 0) return name;
  return field(block, 345, 155) + "/" + name;
}

function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString("latin1", 0, nul === -1 ? data.length : nul);
}

/** Parses PAX records `"<len> <key>=<value>\n"`; values stay raw bytes. */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers pad with NULs
    const space = data.indexOf(0x20, pos);
    const len = space === -1 ? NaN : Number(data.toString("latin1", pos, space));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new TarFormatError("malformed PAX extended header");
    }
    const end = pos + len;
    if (data[end - 1] !== 0x0a) throw new TarFormatError("malformed PAX record (no newline)");
    const equals = data.indexOf(0x3d, space + 1);
    if (equals === -1 || equals >= end) throw new TarFormatError("malformed PAX record (no '=')");
    records.set(data.toString("latin1", space + 1, equals), data.subarray(equals + 1, end - 1));
    pos = end;
  }
  return records;
}

function mergePax(previous: Map<string, Buffer> | null, next: Map<string, Buffer>): Map<string, Buffer> {
  if (previous === null) return next;
  for (const [key, value] of next) previous.set(key, value);
  return previous;
}

function paxNumber(value: Buffer, key: string): number {
  const text = value.toString("latin1");
  const number = key === "mtime" ? Math.floor(Number(text)) : Number(text);
  if (!/^-?\d+(\.\d*)?$/.test(text) || !Number.isSafeInteger(number)) {
    throw new TarFormatError(`invalid PAX ${key} value`);
  }
  if (number < 0 && key !== "mtime") throw new TarFormatError(`negative PAX ${key} value`);
  return number;
}

function applyPax(entry: TarEntry, pax: Map<string, Buffer>): void {
  for (const [key, value] of pax) {
    switch (key) {
      case "path":
        entry.name = value.toString("latin1");
        break;
      case "linkpath":
        entry.linkname = value.toString("latin1");
        break;
      case "size":
      case "uid":
      case "gid":
      case "mtime":
        entry[key] = paxNumber(value, key);
        break;
      case "uname":
      case "gname":
        entry[key] = value.toString("latin1");
        break;
      default:
        applyPaxExtension(entry, key, value);
    }
  }
}

function applyPaxExtension(entry: TarEntry, key: string, value: Buffer): void {
  if (key.startsWith("SCHILY.xattr.")) {
    setXattr(entry, key.slice("SCHILY.xattr.".length), Buffer.from(value));
  } else if (key.startsWith("LIBARCHIVE.xattr.")) {
    const name = decodeURIComponent(key.slice("LIBARCHIVE.xattr.".length));
    setXattr(entry, name, Buffer.from(value.toString("latin1"), "base64"));
  } else if (key.startsWith("GNU.sparse.")) {
    throw new TarFormatError("PAX sparse files are not supported");
  }
}

function setXattr(entry: TarEntry, name: string, value: Buffer): void {
  if (name === "") throw new TarFormatError("empty xattr name in PAX header");
  entry.xattrs ??= new Map();
  entry.xattrs.set(name, value);
}
