/**
 * The tar entry model shared by the reader and the writer, and the byte-exact name encoding.
 *
 * Names are kept as "binary strings" (one char per byte, latin1) so that any byte sequence in a
 * layer, valid UTF-8 or not, survives the trip through the flattener unchanged. Path operations
 * only ever look at `/` and `.`, which are ASCII, so they are safe on this form. Use `displayName`
 * when a name goes into a message, `fromUtf8` to bring a JS string (an overlay path) into the form.
 *
 * @example
 * ```ts
 * const raw = fromUtf8("usr/share/ñ");     // 12 chars, one per byte
 * displayName(raw);                         // "usr/share/ñ"
 * ```
 */

export type EntryType = "file" | "link" | "symlink" | "dir" | "char" | "block" | "fifo";

export interface TarEntry {
  /** Entry name as a binary string (after GNU long name and PAX `path`). */
  name: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Body size in bytes (0 for everything but regular files). */
  size: number;
  /** Modification time in whole seconds since the epoch. */
  mtime: number;
  /** Symlink or hardlink target as a binary string ("" when none). */
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.*` / `LIBARCHIVE.xattr.*`, values byte-exact. */
  xattrs: Map<string, Buffer> | null;
}

/** Brings a JS (UTF-16) string into the one-char-per-byte form used for names. */
export function fromUtf8(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** Turns a binary-string name back into readable text for messages. */
export function displayName(raw: string): string {
  return JSON.stringify(Buffer.from(raw, "latin1").toString("utf8")).slice(1, -1);
}
