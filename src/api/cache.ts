/**
 * `cache list` and `cache clean`: what the blob cache holds, which catalog images use each blob, and
 * removal least recently used first, by age, by total size or all at once.
 *
 * Which images use a blob comes from the catalog rows' `metrics`: a pull stores the image manifest
 * there (key "2", or "1" for schema 1), with the config and layer digests. Last use is the later of
 * the download and the last pull that used the blob (cache/gc.ts). Cleaning never removes a blob a
 * running pull holds or downloads, on any host sharing the cache (`removeUnheldBlobs`), so it is
 * safe to run from cron on a shared cache while jobs pull.
 *
 * @example
 * ```ts
 * const { blobs } = await cacheList(ctx);
 * const result = await cacheClean(ctx, { olderThan: "30d", maxSize: "50G", dryRun: true });
 * console.log(result.removed.length, result.freedBytes);
 * ```
 */
import { existsSync } from "node:fs";
import { heldBlobs, listBlobs, pruneTemp, removeUnheldBlobs, type RemovalOutcome } from "../cache/gc.js";
import { parseMetrics } from "../catalog/catalog.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { blobCacheDir } from "../cache/layout.js";

export { blobCacheDir };

export interface CacheEntry {
  digest: string;
  size: number;
  /** ISO 8601 time of the last download or pull that used it. */
  lastUsed: string;
  /** Catalog uris of the images whose manifest lists this blob. */
  images: string[];
  /** A running pull holds or downloads it (cache clean skips it). */
  held: boolean;
}

export interface CacheListing {
  /** The blob store's directory. */
  root: string;
  /** Least recently used first. */
  blobs: CacheEntry[];
  totalBytes: number;
}

export interface CacheCleanOptions {
  /** Remove blobs not used for this long: milliseconds, or text such as `30d`, `12h`, `2w`. */
  olderThan?: number | string;
  /** Then remove least recently used blobs until the cache is at most this big: bytes, or `50G`. */
  maxSize?: number | string;
  /** Remove every blob no running pull holds. */
  all?: boolean;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
}

export interface CacheCleanResult {
  removed: CacheEntry[];
  freedBytes: number;
  /** Blobs that would have gone but a running pull holds them. */
  skipped: CacheEntry[];
  /** Bytes left in the cache afterwards. */
  remainingBytes: number;
  dryRun: boolean;
}

/** Every blob in the cache, least recently used first, with the catalog images that use it. */
export async function cacheList(ctx: Context): Promise<CacheListing> {
  const root = blobCacheDir(ctx.settings);
  // Listing the cache must not create a catalog: with none yet, no image uses any blob.
  const hasCatalog =
    ctx.catalogEnabled && (ctx.settings.databaseUrl !== undefined || existsSync(ctx.settings.databasePath));
  const users = hasCatalog ? await imagesByBlob(ctx) : new Map<string, string[]>();
  const held = await heldBlobs(root);
  const blobs = (await listBlobs(root))
    .sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.digest.localeCompare(b.digest))
    .map((blob) => ({
      digest: blob.digest,
      size: blob.size,
      lastUsed: new Date(blob.lastUsedMs).toISOString(),
      images: users.get(blob.digest) ?? [],
      held: held.has(hexOf(blob.digest)),
    }));
  return { root, blobs, totalBytes: blobs.reduce((sum, blob) => sum + blob.size, 0) };
}

/** Removes blobs by age, size budget or all, least recently used first; see CacheCleanOptions. */
export async function cacheClean(ctx: Context, options: CacheCleanOptions): Promise<CacheCleanResult> {
  const olderThanMs = options.olderThan === undefined ? undefined : parseDuration(options.olderThan);
  const maxBytes = options.maxSize === undefined ? undefined : parseSize(options.maxSize);
  if (!options.all && olderThanMs === undefined && maxBytes === undefined) {
    throw new SregistryError("cache clean needs --older-than, --max-size or --all", { code: "USAGE" });
  }
  const listing = await cacheList(ctx);
  const now = Date.now();
  let remaining = listing.totalBytes;
  const result: CacheCleanResult = {
    removed: [],
    freedBytes: 0,
    skipped: [],
    remainingBytes: 0,
    dryRun: options.dryRun === true,
  };
  // Choose with the holds read once by cacheList, then remove the whole choice in one batch
  // (removeUnheldBlobs reads the holds once more, after taking every chosen blob out of sight).
  const chosen: CacheEntry[] = [];
  for (const blob of listing.blobs) {
    const old = olderThanMs !== undefined && now - Date.parse(blob.lastUsed) > olderThanMs;
    const over = maxBytes !== undefined && remaining > maxBytes;
    if (!options.all && !old && !over) continue;
    if (blob.held) {
      result.skipped.push(blob);
      continue;
    }
    chosen.push(blob);
    remaining -= blob.size;
  }
  const outcomes = options.dryRun
    ? new Map<string, RemovalOutcome>()
    : await removeUnheldBlobs(
        listing.root,
        chosen.map((blob) => blob.digest),
        { heldBefore: new Set(listing.blobs.filter((b) => b.held).map((b) => hexOf(b.digest))) },
      );
  for (const blob of chosen) {
    const outcome = outcomes.get(blob.digest) ?? "removed";
    if (outcome === "held") {
      // A pull started during the clean: it keeps its blob, which stays counted in the cache.
      result.skipped.push(blob);
      remaining += blob.size;
      continue;
    }
    if (outcome === "removed") result.removed.push(blob);
    result.freedBytes += blob.size;
  }
  if (!options.dryRun) await pruneTemp(listing.root).catch(() => undefined);
  result.remainingBytes = remaining;
  return result;
}

function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1);
}

/** `30d`, `12h`, `90m`, `45s`, `2w` (or a bare number of days) in milliseconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === "number") return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(value);
  if (!match)
    throw new SregistryError(`--older-than ${value}: give a duration such as 30d, 12h or 2w`, {
      code: "USAGE",
    });
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, "": 86_400_000 };
  return Number(match[1]) * unit[match[2]!.toLowerCase() as keyof typeof unit];
}

/** `50G`, `500M`, `1.5T`, `800K` (powers of 1024, an optional `B`/`iB`) or bytes, in bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === "number") return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value);
  if (!match)
    throw new SregistryError(`--max-size ${value}: give a size such as 50G or 500M`, { code: "USAGE" });
  const power = " kmgtp".indexOf(match[2]!.toLowerCase() || " ");
  return Math.floor(Number(match[1]) * 1024 ** power);
}

/** Blob digest → uris of the catalog images whose stored manifest lists it (config and layers). */
async function imagesByBlob(ctx: Context): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const row of await ctx.catalog().listContainers()) {
    const uri = row.uri ?? `${row.collection}/${row.name}:${row.tag}`;
    for (const digest of manifestBlobs(parseMetrics(row.metrics))) {
      const list = users.get(digest) ?? [];
      if (!list.includes(uri)) list.push(uri);
      users.set(digest, list);
    }
  }
  return users;
}

/** Config and layer digests of the manifest a pull stored in `metrics`. */
function manifestBlobs(metrics: unknown): string[] {
  if (typeof metrics !== "object" || metrics === null) return [];
  const record = metrics as Record<string, unknown>;
  const v2 = record["2"] as { config?: { digest?: unknown }; layers?: { digest?: unknown }[] } | undefined;
  const v1 = record["1"] as { fsLayers?: { blobSum?: unknown }[] } | undefined;
  const digests = [
    v2?.config?.digest,
    ...(Array.isArray(v2?.layers) ? v2.layers.map((layer) => layer?.digest) : []),
    ...(Array.isArray(v1?.fsLayers) ? v1.fsLayers.map((layer) => layer?.blobSum) : []),
  ];
  return digests.filter((d): d is string => typeof d === "string");
}
