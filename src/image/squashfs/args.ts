/**
 * Command lines for the tar → squashfs tools, from one set of options.
 *
 * Choices (all measured or checked against squashfs-tools 4.5.1 / squashfs-tools-ng 1.2):
 * - Ownership, modes and mtimes come from the tar: no `-all-root`, no `-all-time` (that would
 *   flatten every mtime); the root directory, which is not a tar entry, gets `-root-*` (sqfstar)
 *   or `--defaults` (tar2sqfs) from the flattener's root attributes, 0755 0:0 by default.
 * - Reproducible: `-mkfs-time` (sqfstar) or `SOURCE_DATE_EPOCH` (tar2sqfs, where it only sets the
 *   superblock time); sqfstar must NOT see `SOURCE_DATE_EPOCH`, it would clamp file mtimes.
 * - `-exit-on-error` / `--no-skip`: the flattener's tar is clean, so anything the tool would skip
 *   is a real problem.
 * - `-force` / `--force`: the output file may exist (SIF prefix, or a retry).
 *
 * @example
 * ```ts
 * sqfstarArgs("/tmp/x.sqfs", { compression: "gzip", level: 6, processors: 2, blockSize: 131072,
 *   mkfsTime: 0, root: DEFAULT_ROOT, offset: 0 });
 * ```
 */
import type { RootAttributes } from "../flatten/types.js";

export type Compression = "gzip" | "zstd" | "lz4" | "xz";

export interface ToolSettings {
  compression: Compression;
  /** Compression level (gzip 1–9, zstd 1–22); undefined keeps the tool's default. */
  level: number | undefined;
  /** lz4's high-compression variant (`-Xhc` / `-X hc`). */
  hc?: boolean;
  processors: number;
  blockSize: number;
  mkfsTime: number;
  root: RootAttributes;
  /** Byte offset at which sqfstar writes (0: start of file). */
  offset: number;
}

export const DEFAULT_ROOT: RootAttributes = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

function levelFlags(settings: ToolSettings): string[] {
  const { compression, level } = settings;
  if (compression === "lz4" && settings.hc) return ["-Xhc"];
  if (level === undefined || (compression !== "gzip" && compression !== "zstd")) return [];
  return ["-Xcompression-level", String(level)];
}

/** Whether these settings need compressor options (which sqfstar 4.5.x cannot take). */
export function needsCompressorOptions(settings: ToolSettings): boolean {
  return levelFlags(settings).length > 0;
}

/**
 * Arguments for `sqfstar` (or, with `tarFlag`, for `mksquashfs - <out> -tar` ≥ 4.6).
 *
 * sqfstar reads `[OPTIONS] FILESYSTEM [exclude list]`: anything after the output name is taken as
 * an exclude pattern and silently ignored, so every option goes first. sqfstar 4.5.x also rejects
 * every compressor option (`-X…`, "missing compression level" whatever follows), so the level is
 * only passed when `compressorOptions` is true (squashfs-tools ≥ 4.6); 4.5.x always uses the
 * compressor's default level (gzip 9, zstd 15).
 */
export function sqfstarArgs(
  output: string,
  settings: ToolSettings,
  tarFlag = false,
  compressorOptions = tarFlag,
): string[] {
  const args = tarFlag ? ["-", output, "-tar", "-noappend"] : [];
  args.push("-quiet", "-no-progress", "-exit-on-error", "-force");
  args.push("-comp", settings.compression);
  if (compressorOptions) args.push(...levelFlags(settings));
  args.push("-b", String(settings.blockSize), "-processors", String(settings.processors));
  args.push("-mkfs-time", String(settings.mkfsTime));
  args.push("-root-mode", (settings.root.mode & 0o7777).toString(8));
  args.push("-root-uid", String(settings.root.uid), "-root-gid", String(settings.root.gid));
  args.push("-root-time", String(clampTime(settings.root.mtime)));
  if (settings.offset > 0) args.push("-offset", String(settings.offset));
  if (!tarFlag) args.push(output);
  return args;
}

/** Arguments for `tar2sqfs` (which has no offset option). */
export function tar2sqfsArgs(output: string, settings: ToolSettings): string[] {
  const args = ["--quiet", "--force", "--no-skip", "--compressor", settings.compression];
  const { compression, level } = settings;
  if (level !== undefined && (compression === "gzip" || compression === "zstd")) {
    args.push("--comp-extra", `level=${level}`);
  } else if (compression === "lz4" && settings.hc) {
    args.push("--comp-extra", "hc");
  }
  args.push("--block-size", String(settings.blockSize), "--num-jobs", String(settings.processors));
  const root = settings.root;
  const defaults = `uid=${root.uid},gid=${root.gid},mode=0${(root.mode & 0o7777).toString(8)},mtime=${clampTime(root.mtime)}`;
  args.push("--defaults", defaults, output);
  return args;
}

function clampTime(seconds: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.floor(seconds)));
}
