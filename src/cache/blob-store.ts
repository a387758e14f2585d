/**
 * The content-addressed blob cache pulls download layers and configs into.
 *
 * A blob is visible under `<root>/sha256/<hex>` only once it is complete and verified (streamed into
 * `<root>/tmp/`, hashed and counted on the way, fsynced, renamed). A present blob is never fetched
 * again, whatever image asks for it. Concurrent `ensure` calls for one blob share a single download:
 * in one process through a map of in-flight promises, across processes (and hosts, on NFS) through a
 * lock file per digest whose stale holders are detected and broken (see lock.ts). A killed process
 * leaves only a temp file and a lock, both cleaned up by the next `ensure` of that blob (or by
 * `pruneTemp`); nothing half-written is ever visible.
 *
 * A blob found present is checked before it is used: its size always (a truncated or swapped file
 * is removed and fetched again), its sha256 too when `verifyDigest` is set (SREGISTRY_VERIFY_CACHE)
 * or when the cache is group-writable, since then anyone in the group could have put it there.
 * Blobs this process downloaded itself are not re-hashed.
 *
 * A running pull `hold`s its blobs (a lease file per blob in `holds/`, renewed while it runs) so
 * that `cache clean` (gc.ts), from any host, leaves them alone; each use also refreshes the blob's
 * `used/` marker, whose mtime is the last use `cache clean` sorts by.
 *
 * Permissions: directories 0700, files 0600 (see layout.ts: the cache may hold private layers).
 * A cache whose directory (or nearest existing parent) is group-writable is a group-shared cache:
 * directories are made 2770 (setgid, so everything inherits the directory's group), blobs and lock
 * files 0640, whatever the umask, so every member can reuse and lock blobs but nobody else reads them.
 *
 * @example
 * ```ts
 * const store = process.env.SINGULARITY_DISABLE_CACHE
 *   ? await BlobStore.temporary(os.tmpdir())
 *   : new BlobStore(join(cacheDir, "sregistry", "blobs"));
 * const { path, downloaded } = await store.ensure({ digest, size }, (offset) => registry.openBlob(digest, offset), {
 *   onProgress: (n) => bar.tick(n),
 * });
 * await store.dispose(); // removes the store only if it is temporary
 * ```
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, openSync } from "node:fs";
import { chmod, mkdir, mkdtemp, open, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { parseDigest } from "../oci/digest.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { type BlobDescriptor, type BlobOpener, type DownloadOptions, downloadTo } from "./download.js";
import { pruneTemp } from "./gc.js";
import {
  CacheLayout,
  DIR_MODE,
  FILE_MODE,
  SHARED_DIR_MODE,
  SHARED_FILE_MODE,
  isGroupShared,
} from "./layout.js";
import { type LockState, type LockTiming, acquireLock } from "./lock.js";
import { unlinkQuietly } from "../util/filesystem.js";
import { type Lease, tryTakeLease } from "../util/lease-lock.js";

export type { BlobDescriptor, BlobOpener, OpenedBody } from "./download.js";

export type EnsureOptions = DownloadOptions;

export interface EnsureResult {
  /** Final path of the verified blob. */
  path: string;
  /** Blob bytes this call downloaded: the blob's size, or 0 when it was already there or fetched by another caller. */
  downloaded: number;
  /** True when this call did not download (present already, or another caller/process fetched it). */
  cached: boolean;
}

export interface BlobStoreOptions extends LockTiming {
  /** Re-hash every blob found present before use (SREGISTRY_VERIFY_CACHE); always on in a group-shared cache. */
  verifyDigest?: boolean;
}

/** Lease of a pull's hold on its blobs, renewed every quarter of it while the pull runs. */
export const HOLD_LEASE_MS = 120_000;
/** A blob's last-use marker is rewritten at most this often. */
const USED_RESOLUTION_MS = 3_600_000;

/** Blobs a running pull uses; `release()` (idempotent) lets `cache clean` have them again. */
export interface BlobHold {
  release(): void;
}

/** How often a blob found bad in the cache is removed and fetched again before giving up. */
const MAX_CORRUPT_RETRIES = 2;

/** Downloads in progress in this process, keyed by final blob path (shared by all stores on one root). */
const inFlight = new Map<string, Promise<EnsureResult>>();

export class BlobStore {
  readonly root: string;
  readonly layout: CacheLayout;
  private readonly timing: LockTiming;
  private readonly verifyDigest: boolean;
  private readonly isTemporary: boolean;
  private ready: Promise<void> | undefined;
  private shared = false;
  /** Blobs this store downloaded or verified itself, with the size they had then. */
  private readonly trusted = new Map<string, number>();

  constructor(root: string, options: BlobStoreOptions = {}, isTemporary = false) {
    this.layout = new CacheLayout(root);
    this.root = this.layout.root;
    this.timing = options;
    this.verifyDigest = options.verifyDigest ?? false;
    this.isTemporary = isTemporary;
  }

  /** A private store in a fresh directory under `tmpDir` (SINGULARITY_DISABLE_CACHE); `dispose()` deletes it. */
  static async temporary(tmpDir: string, options: BlobStoreOptions = {}): Promise<BlobStore> {
    await mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
    const root = await mkdtemp(join(tmpDir, "sregistry-blobs-"));
    return new BlobStore(root, options, true);
  }

  /** Deletes a temporary store with everything in it; does nothing to a persistent one. */
  async dispose(): Promise<void> {
    if (this.isTemporary) await rm(this.root, { recursive: true, force: true });
  }

  /** True for a private store made by `temporary()` (deleted by `dispose()`). */
  get temporary(): boolean {
    return this.isTemporary;
  }

  /**
   * Deletes one blob of a temporary store as soon as the pull has read it for the last time
   * (SINGULARITY_DISABLE_CACHE keeps scratch disk to the layers in flight: pull/download-stage.ts);
   * `ensure()` fetches it again if it is needed after all. Refused on a persistent store, whose
   * blobs other pulls share.
   *
   * @example
   * ```ts
   * const store = await BlobStore.temporary(os.tmpdir());
   * await store.discard("sha256:…");
   * ```
   */
  async discard(digest: string): Promise<void> {
    if (!this.isTemporary) throw new Error("discard() is only for a temporary blob store");
    const path = this.path(digest);
    this.trusted.delete(path);
    await unlinkQuietly(path);
  }

  /** Where the blob lives (or would live); throws BAD_DIGEST for anything but a valid digest. */
  path(digest: string): string {
    return this.layout.blobPath(digest);
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.path(digest))).isFile();
    } catch (err) {
      if (isErrnoCode(err, "ENOENT")) return false;
      throw err;
    }
  }

  /** Reads a present blob; throws NOT_FOUND right away if it is not in the store. */
  open(digest: string): Readable {
    const path = this.path(digest);
    try {
      // A synchronous probe so a missing blob is a clear error here, not an 'error' event later.
      return createReadStream(path, { fd: openSync(path, "r") });
    } catch (err) {
      if (isErrnoCode(err, "ENOENT")) {
        throw new SregistryError(`blob ${digest} is not in the cache ${this.root}`, { code: "NOT_FOUND" });
      }
      throw err;
    }
  }

  /** True once the store found (or made) its directory group-shared (see the module doc). */
  get isShared(): boolean {
    return this.shared;
  }

  /**
   * Makes the blob present (downloading it at most once across callers, processes and hosts) and
   * returns its path. A present blob that fails its check is removed and fetched again.
   */
  async ensure(
    descriptor: BlobDescriptor,
    opener: BlobOpener,
    options: EnsureOptions = {},
  ): Promise<EnsureResult> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.ensureOnce(descriptor, opener, options);
      if (!result.cached || (await this.checkPresent(descriptor))) {
        await this.markUsed(descriptor.digest);
        return result;
      }
      if (attempt >= MAX_CORRUPT_RETRIES) {
        throw new SregistryError(
          `blob ${descriptor.digest} in the cache ${this.root} keeps failing verification; ` +
            "check who else writes to this cache",
          { code: "INCONSISTENT" },
        );
      }
    }
  }

  /**
   * Takes a use lease on each blob (present or not yet) until `release()`: `cache clean` on any host
   * skips held blobs. Take it before `ensure`, so a blob that was cleaned just before is fetched again.
   */
  async hold(digests: readonly string[]): Promise<BlobHold> {
    const algorithms = new Set(digests.map((digest) => parseDigest(digest).algorithm));
    for (const algorithm of algorithms) await this.prepare(algorithm);
    await makeDir(this.layout.holdsDir, this.shared);
    const leases: Lease[] = [];
    const timing = { leaseMs: HOLD_LEASE_MS, fileMode: this.shared ? SHARED_FILE_MODE : FILE_MODE };
    for (const digest of new Set(digests)) {
      // Unique names: several pulls may hold one blob, so the path is made from a fresh token.
      const token = randomBytes(8).toString("hex");
      const lease = tryTakeLease(this.layout.holdPath(digest, token), timing);
      if (lease) {
        lease.startRenewing();
        leases.push(lease);
      }
    }
    return { release: () => leases.forEach((lease) => lease.release()) };
  }

  /** Refreshes the blob's last-use marker (at most hourly); any group member may, by rename. */
  private async markUsed(digest: string): Promise<void> {
    if (this.isTemporary) return;
    const marker = this.layout.usedPath(digest);
    const mtime = (await stat(marker).catch(() => undefined))?.mtimeMs ?? 0;
    if (Date.now() - mtime < USED_RESOLUTION_MS) return;
    await makeDir(this.layout.usedDir, this.shared);
    const scratch = `${marker}.${randomBytes(6).toString("hex")}`;
    try {
      await writeFile(scratch, "", { mode: this.shared ? SHARED_FILE_MODE : FILE_MODE });
      await rename(scratch, marker);
    } catch {
      await unlinkQuietly(scratch).catch(() => undefined); // bookkeeping only: never fails a pull
    }
  }

  /**
   * Size always, digest when asked or shared; removes a bad blob (readers that have it open keep
   * their data) and returns false so the caller fetches it again.
   */
  private async checkPresent(descriptor: BlobDescriptor): Promise<boolean> {
    await this.prepare(parseDigest(descriptor.digest).algorithm);
    const path = this.path(descriptor.digest);
    const size = (await stat(path).catch(() => undefined))?.size;
    if (size === undefined) return false; // removed meanwhile (cache clean): fetch it again
    const sizeOk = descriptor.size < 0 || size === descriptor.size;
    if (sizeOk && this.trusted.get(path) === size) return true;
    const digestOk =
      sizeOk && (!(this.verifyDigest || this.shared) || (await hashFile(path, descriptor.digest)));
    if (digestOk) {
      this.trusted.set(path, size);
      return true;
    }
    this.trusted.delete(path);
    await unlinkQuietly(path);
    return false;
  }

  private async ensureOnce(
    descriptor: BlobDescriptor,
    opener: BlobOpener,
    options: EnsureOptions,
  ): Promise<EnsureResult> {
    const path = this.path(descriptor.digest);
    for (;;) {
      if (await this.has(descriptor.digest)) return { path, downloaded: 0, cached: true };
      const running = inFlight.get(path);
      if (running === undefined) break;
      try {
        await abortable(running, options.signal);
      } catch (err) {
        // The other caller was cancelled: its failure is not ours, try again ourselves.
        if (options.signal?.aborted || !isAbortError(err)) throw err;
      }
    }
    const job = this.fetchUnderLock(descriptor, opener, options);
    inFlight.set(path, job);
    try {
      return await job;
    } finally {
      if (inFlight.get(path) === job) inFlight.delete(path);
    }
  }

  private async fetchUnderLock(
    descriptor: BlobDescriptor,
    opener: BlobOpener,
    options: EnsureOptions,
  ): Promise<EnsureResult> {
    const { digest, algorithm } = parseDigest(descriptor.digest);
    const path = this.path(digest);
    await this.prepare(algorithm);
    const held = await acquireLock(this.layout.lockPath(digest), {
      ...this.timing,
      ...(this.shared ? { fileMode: SHARED_FILE_MODE } : {}),
      signal: options.signal,
      sleep: options.sleep,
      isDone: () => this.has(digest),
      onBreak: (stale) => this.removeLeftover(digest, stale),
    });
    if (held === undefined) return { path, downloaded: 0, cached: true };
    try {
      if (await this.has(digest)) return { path, downloaded: 0, cached: true };
      const temp = this.layout.tempPath(digest, held.token);
      let size: number;
      try {
        size = await downloadTo(temp, descriptor, opener, options);
        if (this.shared) await chmod(temp, SHARED_FILE_MODE);
        await rename(temp, path);
        this.trusted.set(path, size);
      } catch (err) {
        await unlinkQuietly(temp);
        throw err;
      }
      await syncDir(dirname(path));
      return { path, downloaded: size, cached: false };
    } finally {
      await held.release();
    }
  }

  /** Creates the store's directories and, once per store, clears what killed processes left behind. */
  private async prepare(algorithm: string): Promise<void> {
    this.ready ??= (async () => {
      this.shared = !this.isTemporary && (await isGroupShared(this.root));
      await makeDir(this.layout.tmpDir, this.shared);
      await makeDir(this.layout.locksDir, this.shared);
      await pruneTemp(this.root, this.timing).catch(() => undefined); // best effort, never fails a pull
    })();
    try {
      await this.ready;
    } catch (err) {
      this.ready = undefined; // let a later call try again (e.g. after the user fixed permissions)
      throw err;
    }
    await makeDir(this.layout.algorithmDir(algorithm), this.shared);
  }

  private async removeLeftover(digest: string, stale: LockState): Promise<void> {
    const token = stale.info?.token;
    if (token && /^[a-z0-9]+$/.test(token)) await unlinkQuietly(this.layout.tempPath(digest, token));
  }
}

/**
 * Creates `dir` and its missing parents: private, or 2770 in a group-shared cache whatever the umask.
 *
 * In a shared cache a directory appears under its final name only once it has its final mode: it is
 * made under a staging name, chmodded, then renamed into place. Otherwise another process could see a
 * directory between mkdir (mode cut by the umask) and chmod, judge the cache private, and create its
 * own directories 0700 inside a shared cache.
 */
async function makeDir(dir: string, shared: boolean): Promise<void> {
  try {
    if (shared) await makeSharedDir(dir);
    else await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SregistryError(`cannot create blob cache directory ${dir}: ${reason}`, {
      code: "NOT_WRITABLE",
      cause: err,
    });
  }
}

async function makeSharedDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let current = dir; !(await isDirectory(current)); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const created of missing) await publishSharedDir(created);
}

async function publishSharedDir(dir: string): Promise<void> {
  const staging = `${dir}.${randomBytes(6).toString("hex")}.mkdir`;
  await mkdir(staging, { mode: SHARED_DIR_MODE });
  try {
    await chmod(staging, SHARED_DIR_MODE);
    // rename(2) onto an existing empty directory replaces it atomically; onto a non-empty one it
    // fails, and then the directory another process published stays.
    await rename(staging, dir);
  } catch (err) {
    await rmdir(staging).catch(() => undefined);
    if (!(await isDirectory(dir))) throw err;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return false;
    throw err;
  }
}

/** True when the file's sha256 (or sha512) is `digest`. */
async function hashFile(path: string, digest: string): Promise<boolean> {
  const { algorithm, hex } = parseDigest(digest);
  const hash = createHash(algorithm);
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return false;
    throw err;
  }
  return hash.digest("hex") === hex;
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable; some filesystems refuse fsync on a directory, which is harmless.
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}
