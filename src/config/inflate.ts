/**
 * The decompression-bomb bound settings: how far one layer may inflate, as the larger of a floor
 * and a ratio to its compressed size (the reasons and measured figures are in
 * image/flatten/layer-check.ts).
 *
 * - SREGISTRY_INFLATE_RATIO: a whole number from 1 to 1,000,000, default 100;
 * - SREGISTRY_INFLATE_FLOOR: a size in bytes, with an optional K, M, G or T suffix (powers of
 *   1024, as `mksquashfs -mem`), default 8G.
 *
 * @example
 * ```ts
 * inflateLimitSetting({ SREGISTRY_INFLATE_RATIO: "1000", SREGISTRY_INFLATE_FLOOR: "16G" });
 * // { ratio: 1000, floorBytes: 17179869184 }
 * ```
 */
import { SregistryError } from "../util/errors.js";
import type { InflateLimitSetting } from "./types.js";

const DEFAULT_RATIO = 100;
const MAX_RATIO = 1_000_000;
const DEFAULT_FLOOR = "8G";
const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Reads both settings from the environment; throws `BAD_SETTING` for a malformed value. */
export function inflateLimitSetting(env: NodeJS.ProcessEnv): InflateLimitSetting {
  return {
    ratio: parseInflateRatio(env.SREGISTRY_INFLATE_RATIO),
    floorBytes: parseByteSize("SREGISTRY_INFLATE_FLOOR", env.SREGISTRY_INFLATE_FLOOR ?? DEFAULT_FLOOR),
  };
}

/** SREGISTRY_INFLATE_RATIO: a whole number from 1 to 1,000,000 (unset or empty: 100). */
export function parseInflateRatio(value: string | undefined): number {
  const text = value?.trim();
  if (!text) return DEFAULT_RATIO;
  const ratio = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(ratio >= 1 && ratio <= MAX_RATIO)) {
    throw new SregistryError(
      `SREGISTRY_INFLATE_RATIO must be a whole number from 1 to ${MAX_RATIO}, not ${JSON.stringify(text.slice(0, 40))}`,
      { code: "BAD_SETTING" },
    );
  }
  return ratio;
}

/** "8G" → 8589934592; "512M", "100000", "2T"; a trailing "B" or "iB" is accepted ("8GiB"). */
export function parseByteSize(name: string, value: string): number {
  const text = value.trim() === "" ? DEFAULT_FLOOR : value.trim();
  const match = /^(\d{1,15})\s*([KMGT]?)(?:i?B)?$/i.exec(text);
  const bytes = match ? Number(match[1]) * UNITS[match[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new SregistryError(
      `${name} must be a size such as 8G, 512M or a number of bytes, not ${JSON.stringify(text.slice(0, 40))}`,
      { code: "BAD_SETTING" },
    );
  }
  return bytes;
}
