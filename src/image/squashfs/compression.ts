/**
 * The `--compression` value: an algorithm with an optional level, as `gzip`, `gzip:9`, `zstd`,
 * `zstd:19`, `lz4` or `lz4:hc`, parsed and checked before anything is downloaded.
 *
 * Defaults are chosen for speed: gzip 6 (2.5× less CPU than the tools' gzip 9 for a 0.8 % larger
 * image) and zstd 3 (the squashfs tools default to zstd 15, which made `zstd` slower than gzip;
 * level 3 is zstd's own command-line default). Measured with tar2sqfs 1.2 on a 113 MB tar of
 * /usr/lib/python3 and /usr/share/doc, CPU seconds / image: zstd 15 15.5 s / 43.3 MB, zstd 3
 * 0.46 s / 45.3 MB, gzip 6 2.6 s / 44.6 MB, gzip 9 3.1 s / 44.5 MB, lz4 hc 4.2 s / 46.3 MB.
 * The ranges are the tools' own: squashfs-tools-ng `tar2sqfs -c <algo> -X help` (gzip 1–9,
 * zstd 1–22, lz4 `hc`), and squashfs-tools 4.6 `-Xcompression-level` / `-Xhc`.
 *
 * `compressionKey` is the canonical text with the default filled in: it goes into the build key,
 * so a different level is a different build.
 *
 * @example
 * ```ts
 * parseCompression("zstd:19"); // { algorithm: "zstd", level: 19 }
 * compressionKey(parseCompression("zstd")); // "zstd:3"
 * parseCompression("zstd:30"); // throws: --compression "zstd:30": the zstd level is 1 to 22 (e.g. zstd:3)
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import type { Compression } from "./args.js";

export interface CompressionSpec {
  algorithm: Compression;
  /** The level the user asked for; undefined keeps our default (`DEFAULT_LEVELS`). */
  level?: number;
  /** lz4's high-compression variant. */
  hc?: boolean;
}

/** Levels used when none is given; undefined: the tool's only mode. */
export const DEFAULT_LEVELS: Readonly<Record<Compression, number | undefined>> = {
  gzip: 6,
  zstd: 3,
  lz4: undefined,
  xz: undefined,
};

const LEVEL_RANGES: Partial<Record<Compression, [number, number]>> = { gzip: [1, 9], zstd: [1, 22] };

/** The algorithms `--compression` offers (xz is left out: slow, and Singularity < 3.x cannot mount it). */
export const COMPRESSION_CHOICES: readonly Compression[] = ["gzip", "zstd", "lz4"];

export function parseCompression(text: string): CompressionSpec {
  const [name = "", option, ...extra] = text.trim().toLowerCase().split(":");
  const algorithm = COMPRESSION_CHOICES.find((choice) => choice === name);
  if (algorithm === undefined || extra.length > 0) {
    throw bad(
      text,
      `use one of ${COMPRESSION_CHOICES.join(", ")}, optionally with a level (zstd:19, gzip:9, lz4:hc)`,
    );
  }
  if (option === undefined) return { algorithm };
  if (algorithm === "lz4") {
    if (option === "hc") return { algorithm, hc: true };
    throw bad(text, "lz4 takes no level, only the high-compression variant lz4:hc");
  }
  const [min, max] = LEVEL_RANGES[algorithm]!;
  const level = /^\d{1,2}$/.test(option) ? Number(option) : NaN;
  if (!(level >= min && level <= max)) {
    throw bad(
      text,
      `the ${algorithm} level is ${min} to ${max} (e.g. ${algorithm}:${DEFAULT_LEVELS[algorithm]})`,
    );
  }
  return { algorithm, level };
}

/** Canonical text with the default level filled in: `zstd:3`, `gzip:6`, `lz4`, `lz4:hc`. */
export function compressionKey(spec: CompressionSpec): string {
  if (spec.hc) return `${spec.algorithm}:hc`;
  const level = spec.level ?? DEFAULT_LEVELS[spec.algorithm];
  return level === undefined ? spec.algorithm : `${spec.algorithm}:${level}`;
}

function bad(text: string, what: string): SregistryError {
  return new SregistryError(`--compression ${JSON.stringify(text)}: ${what}`, { code: "BAD_COMPRESSION" });
}
