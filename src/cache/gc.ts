/**
 * Housekeeping for a blob store: list, measure and remove blobs, and clear what killed downloads left.
 *
 * `removeUnheldBlobs` is what `cache clean` uses on a cache others may be pulling into at the same
 * time, from any host: a blob some pull holds (an unexpired hold lease, see BlobStore.hold) or is
 * downloading (an unexpired download lock) is skipped. To close the race with a pull that takes
 * its hold just after our check, every blob to go is first renamed aside, the holds are read again
 * (once, after the last rename), and a blob held now is linked back; a pull that looked in between
 * finds no blob and fetches it. Reading the holds is the expensive part on a shared (NFS) cache,
 * so a clean reads them twice per run, not twice per blob.
 *
 * `pruneTemp` removes a temp file when the lock that owned it (its token is in the file name) is gone,
 * stale or now someone else's, or when it has not been written to for an hour; it also breaks stale
 * locks and removes lock scratch files. Removing a blob another process is reading is safe on POSIX
 * (open descriptors keep the data); a pull that needs it again simply downloads it again.
 *
 * @example
 * ```ts
 * for (const blob of await listBlobs(store)) console.log(blob.digest, blob.size);
 * await removeBlob(store, "sha256:" + "ab".repeat(32));
 * const { blobs, bytes } = await cacheSize(store);
 * ```
 */
import { randomBytes } from "node:crypto";
import { link, readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { isLeaseExpired, readLeaseSync } from "../util/lease-lock.js";
import type { Digest } from "../oci/digest.js";
import { isErrnoCode } from "../util/errors.js";
import { CacheLayout, digestFromPath, parseHoldName, parseLockName, parseTempName } from "./layout.js";
import { type LockTiming, breakLock, isLockStale, readLock } from "./lock.js";
import { unlinkQuietly } from "../util/filesystem.js";

/** A store root, or anything that has one (a `BlobStore`). */
export type StoreRef = string | { root: string };

export interface BlobInfo {
  digest: Digest;
  path: string;
  size: number;
  mtimeMs: number;
  /** Last use: the later of the blob's mtime (download) and its `used/` marker (each pull). */
  lastUsedMs: number;
}

export interface PruneOptions extends LockTiming {
  /** Temp files untouched for this long go regardless of their lock. Default one hour. */
  olderThanMs?: number;
}

const ALGORITHMS = ["sha256", "sha512"];
const HOUR_MS = 3_600_000;
/** Lock scratch files live for milliseconds; anything older was left by a killed process. */
const LOCK_SCRATCH_MAX_AGE_MS = 60_000;

/** Every complete blob in the store (temp files and foreign names are not listed). */
export async function listBlobs(store: StoreRef): Promise<BlobInfo[]> {
  const layout = layoutOf(store);
  const blobs: BlobInfo[] = [];
  for (const algorithm of ALGORITHMS) {
    const dir = layout.algorithmDir(algorithm);
    for (const name of await listDir(dir)) {
      const digest = digestFromPath(algorithm, name);
      if (!digest) continue;
      const info = await statOrUndefined(join(dir, name));
      if (!info?.isFile()) continue;
      const used = (await statOrUndefined(layout.usedPath(digest)))?.mtimeMs ?? 0;
      const lastUsedMs = Math.max(info.mtimeMs, used);
      blobs.push({ digest, path: join(dir, name), size: info.size, mtimeMs: info.mtimeMs, lastUsedMs });
    }
  }
  return blobs.sort((a, b) => a.digest.localeCompare(b.digest));
}

/** Deletes one blob; false when it was not there. Throws BAD_DIGEST for an invalid digest. */
export async function removeBlob(store: StoreRef, digest: string): Promise<boolean> {
  const path = layoutOf(store).blobPath(digest);
  const present = (await statOrUndefined(path)) !== undefined;
  await unlinkQuietly(path);
  return present;
}

/** Hex of every blob a running pull holds or downloads (unexpired hold leases and download locks). */
export async function heldBlobs(store: StoreRef, timing: LockTiming = {}): Promise<Set<string>> {
  const layout = layoutOf(store);
  const held = new Set<string>();
  for (const name of await listDir(layout.holdsDir)) {
    const hex = parseHoldName(name);
    const state = hex && readLeaseSync(join(layout.holdsDir, name));
    if (hex && state && !isLeaseExpired(state, hostOnly(timing))) held.add(hex);
  }
  for (const name of await listDir(layout.locksDir)) {
    const hex = parseLockName(name);
    const state = hex && (await readLock(join(layout.locksDir, name)).catch(() => undefined));
    if (hex && state && !isLockStale(state, timing)) held.add(hex);
  }
  return held;
}

/** What became of a blob `removeUnheldBlobs` was asked to remove. */
export type RemovalOutcome = "removed" | "held" | "missing";

export interface RemoveOptions {
  timing?: LockTiming;
  /**
   * Hex digests held when the caller last read the holds (`heldBlobs`), so they are not read again
   * before the renames; default: read here.
   */
  heldBefore?: ReadonlySet<string>;
  /** Reads the holds (default `heldBlobs`); tests count the reads and act between them. */
  readHolds?: (root: string, timing: LockTiming) => Promise<Set<string>>;
}

/**
 * Removes blobs (and their last-use markers) unless a pull holds them: "held" when skipped,
 * "missing" when a blob was not there. Safe against pulls on other hosts (see the module doc).
 */
export async function removeUnheldBlobs(
  store: StoreRef,
  digests: readonly string[],
  options: RemoveOptions = {},
): Promise<Map<string, RemovalOutcome>> {
  const layout = layoutOf(store);
  const timing = options.timing ?? {};
  const readHolds = options.readHolds ?? heldBlobs;
  const outcomes = new Map<string, RemovalOutcome>();
  // The order is what makes this safe; a pull takes its hold *before* it looks for the blob
  // (BlobStore.hold, then ensure):
  // 1. Skip what is held already.
  const before = options.heldBefore ?? (await readHolds(layout.root, timing));
  const aside: { digest: string; hex: string; path: string; asidePath: string }[] = [];
  for (const digest of new Set(digests)) {
    const path = layout.blobPath(digest);
    const hex = path.slice(path.lastIndexOf("/") + 1);
    if (before.has(hex)) {
      outcomes.set(digest, "held");
      continue;
    }
    // 2. Take every other blob out of sight (rename is atomic): from now on a pull that looks for
    //    it does not find it and downloads it again, whatever we decide.
    const asidePath = join(layout.tmpDir, `${hex}.${randomBytes(8).toString("hex")}.removing`);
    try {
      await rename(path, asidePath);
      aside.push({ digest, hex, path, asidePath });
    } catch (err) {
      if (!isErrnoCode(err, "ENOENT")) throw err;
      outcomes.set(digest, "missing");
    }
  }
  if (aside.length === 0) return outcomes;
  // 3. Read the holds again, once, after the last rename. A pull whose hold this read misses took
  //    it after every rename, so it looks for the blob later still and fetches it; a pull whose
  //    hold it sees may have found the blob before step 2 and counts on it: 4. link that one back.
  const after = await readHolds(layout.root, timing);
  for (const { digest, hex, path, asidePath } of aside) {
    if (after.has(hex)) {
      await link(asidePath, path).catch((err: unknown) => {
        if (!isErrnoCode(err, "EEXIST")) throw err; // already fetched again: that copy is as good
      });
      await unlinkQuietly(asidePath);
      outcomes.set(digest, "held");
    } else {
      await unlinkQuietly(asidePath);
      await unlinkQuietly(layout.usedPath(digest));
      outcomes.set(digest, "removed");
    }
  }
  return outcomes;
}

/** One blob through `removeUnheldBlobs` (reads the holds twice: use the batch for many). */
export async function removeUnheldBlob(
  store: StoreRef,
  digest: string,
  timing: LockTiming = {},
): Promise<RemovalOutcome> {
  return (await removeUnheldBlobs(store, [digest], { timing })).get(digest) ?? "missing";
}

/** Removes abandoned temp files, stale locks and lock scratch files; returns how many files went. */
export async function pruneTemp(store: StoreRef, options: PruneOptions = {}): Promise<number> {
  const layout = layoutOf(store);
  const now = Date.now();
  let removed = 0;
  for (const name of await listDir(layout.tmpDir)) {
    const path = join(layout.tmpDir, name);
    const info = await statOrUndefined(path);
    if (!info?.isFile()) continue;
    const tooOld = now - info.mtimeMs > (options.olderThanMs ?? HOUR_MS);
    const owner = parseTempName(name);
    if (tooOld || (owner && !(await ownedByLiveLock(layout, owner, options)))) {
      await unlinkQuietly(path);
      removed++;
    }
  }
  for (const name of await listDir(layout.holdsDir)) {
    const path = join(layout.holdsDir, name);
    const state = readLeaseSync(path);
    if (state && isLeaseExpired(state, hostOnly(options), now)) {
      await unlinkQuietly(path);
      removed++;
    }
  }
  for (const name of await listDir(layout.locksDir)) {
    const path = join(layout.locksDir, name);
    const state = await readLock(path).catch(() => undefined);
    if (!state) continue;
    if (parseLockName(name) !== undefined) {
      if (isLockStale(state, options, now) && (await breakLock(path, state))) removed++;
    } else if (now - state.mtimeMs > LOCK_SCRATCH_MAX_AGE_MS) {
      await unlinkQuietly(path);
      removed++;
    }
  }
  return removed;
}

/** Count and bytes of complete blobs, and bytes held by temp files. */
export async function cacheSize(
  store: StoreRef,
): Promise<{ blobs: number; bytes: number; tempBytes: number }> {
  const blobs = await listBlobs(store);
  const layout = layoutOf(store);
  let tempBytes = 0;
  for (const name of await listDir(layout.tmpDir)) {
    tempBytes += (await statOrUndefined(join(layout.tmpDir, name)))?.size ?? 0;
  }
  return { blobs: blobs.length, bytes: blobs.reduce((sum, blob) => sum + blob.size, 0), tempBytes };
}

async function ownedByLiveLock(
  layout: CacheLayout,
  owner: { hex: string; token: string },
  timing: LockTiming,
): Promise<boolean> {
  // A download creates its temp file only after taking the lock and removes it before releasing,
  // so a temp file whose token is not the current, live lock's belongs to nobody.
  const state = await readLock(join(layout.locksDir, `${owner.hex}.lock`));
  return state?.info?.token === owner.token && !isLockStale(state, timing);
}

function hostOnly(timing: LockTiming): { hostname?: string } {
  return timing.hostname === undefined ? {} : { hostname: timing.hostname };
}

function layoutOf(store: StoreRef): CacheLayout {
  return new CacheLayout(typeof store === "string" ? store : store.root);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return [];
    throw err;
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return undefined;
    throw err;
  }
}
