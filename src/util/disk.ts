/**
 * Free-space checks before a pull starts writing gigabytes, so that it fails in a second with a clear
 * message instead of after twenty minutes with ENOSPC and half-written files.
 *
 * Needs are grouped by filesystem (statfs `type` plus the device number of the nearest existing
 * directory), so a cache and an image store on the same disk are checked against their sum. A small
 * safety margin (64 MiB + 1 %) is added because sizes are estimates and filesystems keep overhead.
 * `statfs`/`stat` can be injected for tests: a real full disk cannot be arranged in a test.
 *
 * @example
 * ```ts
 * await preflight([
 *   { path: cacheDir, bytes: layerBytes, what: "layer cache" },
 *   { path: storageDir, bytes: estimatedSif, what: "SIF image" },
 * ]); // throws SregistryError NO_SPACE: "not enough free space in /home/u (layer cache, SIF image): need 1.2 GB, 800 MB free"
 * formatBytes(1_234_567_890); // "1.2 GB"
 * // a write failed with ENOSPC: say which filesystem filled and how much was needed
 * throw await noSpaceError(buildDir, "the image being built", { estimated: 1.2e9, freeBefore: 8e8 }, err);
 * ```
 */
import { stat as fsStat, statfs as fsStatfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { SregistryError, isErrnoCode } from "./errors.js";

/** The part of `fs.StatFs` we use. */
export interface StatfsResult {
  type: number;
  bsize: number;
  bavail: number;
}

export interface DiskProbe {
  statfs?: (path: string) => Promise<StatfsResult>;
  stat?: (path: string) => Promise<{ dev: number; isDirectory(): boolean }>;
}

export interface SpaceNeed {
  /** Where the bytes will be written (need not exist yet). */
  path: string;
  /** How many bytes will be written there; 0 or less is ignored. */
  bytes: number;
  /** What the bytes are, for the error message ("layer cache", "SIF image"). */
  what: string;
}

const MARGIN_FIXED = 64 * 1024 * 1024;
const MARGIN_RATIO = 0.01;

/** The safety margin added to a filesystem's summed needs. */
export function safetyMargin(bytes: number): number {
  return MARGIN_FIXED + Math.ceil(bytes * MARGIN_RATIO);
}

/** Human-readable size in decimal units, like docker and du --si: "800 MB", "1.2 GB", "512 B". */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // One decimal below 10 ("1.2 GB"), whole numbers above ("800 MB"); avoid "1000 MB" by rounding up a unit.
  let shown = value < 9.95 ? value.toFixed(1) : String(Math.round(value));
  if (shown === "1000" && unit < units.length - 1) {
    unit++;
    shown = "1.0";
  }
  return `${shown} ${units[unit]}`;
}

/** Bytes available to an unprivileged user on the filesystem holding `path` (or its nearest existing parent). */
export async function freeBytes(path: string, probe: DiskProbe = {}): Promise<number> {
  const dir = await nearestExisting(path, probe);
  const info = await (probe.statfs ?? fsStatfs)(dir);
  return info.bavail * info.bsize;
}

/** Throws `SregistryError` code NO_SPACE when any filesystem lacks room for the needs placed on it. */
export async function preflight(needs: SpaceNeed[], probe: DiskProbe = {}): Promise<void> {
  const groups = new Map<string, { needs: SpaceNeed[]; free: number }>();
  for (const need of needs) {
    if (!(need.bytes > 0)) continue;
    const dir = await nearestExisting(need.path, probe);
    const info = await (probe.statfs ?? fsStatfs)(dir);
    const { dev } = await (probe.stat ?? fsStat)(dir);
    const key = `${info.type}:${dev}`;
    const group = groups.get(key) ?? { needs: [], free: info.bavail * info.bsize };
    group.needs.push(need);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    const sum = group.needs.reduce((total, need) => total + need.bytes, 0);
    const required = sum + safetyMargin(sum);
    if (required > group.free) throw noSpace(group.needs, required, group.free);
  }
}

function noSpace(needs: SpaceNeed[], required: number, free: number): SregistryError {
  const paths = [...new Set(needs.map((need) => need.path))].join(" and ");
  const whats = [...new Set(needs.map((need) => need.what))].join(", ");
  return new SregistryError(
    `not enough free space in ${paths} (${whats}): need ${formatBytes(required)}, ${formatBytes(free)} free`,
    { code: "NO_SPACE" },
  );
}

/** Walks up from `path` to the closest directory that exists (statfs needs an existing path). */
async function nearestExisting(path: string, probe: DiskProbe): Promise<string> {
  let current = resolve(path);
  for (;;) {
    try {
      const info = await (probe.stat ?? fsStat)(current);
      // A file in the way (ENOTDIR later) still sits on the same filesystem as its directory.
      return info.isDirectory() ? current : dirname(current);
    } catch (err) {
      if (!isErrnoCode(err, "ENOENT") && !isErrnoCode(err, "ENOTDIR")) throw err;
      const parent = dirname(current);
      if (parent === current) throw err;
      current = parent;
    }
  }
}

/** The mount point holding `path` (or its nearest existing parent): the top folder on its device. */
export async function mountPointOf(path: string, probe: DiskProbe = {}): Promise<string> {
  const statOf = probe.stat ?? fsStat;
  let current = await nearestExisting(path, probe);
  const { dev } = await statOf(current);
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return current;
    const info = await statOf(parent).catch(() => undefined);
    if (info === undefined || info.dev !== dev) return current;
    current = parent;
  }
}

/** True for a "disk full" failure: ENOSPC (or EDQUOT, a full quota) or our NO_SPACE. */
export function isNoSpace(err: unknown): boolean {
  return (
    isErrnoCode(err, "ENOSPC") ||
    isErrnoCode(err, "EDQUOT") ||
    (err instanceof SregistryError && err.code === "NO_SPACE")
  );
}

/**
 * One clear error for a filesystem that filled while writing: which filesystem (its mount point),
 * what was being written where, how much it needs (the estimate), and what was free when the
 * write began (`freeBefore`) and is free now, so a user can tell a wrong estimate from a disk
 * that something else filled meanwhile.
 */
export async function noSpaceError(
  path: string,
  what: string,
  needed: { estimated: number; freeBefore?: number | undefined },
  cause?: unknown,
  probe: DiskProbe = {},
): Promise<SregistryError> {
  const mount = await mountPointOf(path, probe).catch(() => path);
  const freeNow = await freeBytes(path, probe).catch(() => undefined);
  const free = [
    needed.freeBefore === undefined ? "" : `${formatBytes(needed.freeBefore)} were free when it began`,
    freeNow === undefined ? "" : `${formatBytes(freeNow)} now`,
  ].filter(Boolean);
  return new SregistryError(
    `no space left on the filesystem mounted at ${mount} while writing ${what} in ${path}: ` +
      `it needs about ${formatBytes(needed.estimated)}${free.length ? ` (${free.join(", ")})` : ""}; ` +
      "free some space there or use another place",
    { code: "NO_SPACE", ...(cause !== undefined ? { cause } : {}) },
  );
}
