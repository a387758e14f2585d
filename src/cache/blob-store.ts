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
 * Permissions: directories 0700, files 0600 (see layout.ts: the cache may hold private layers).
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
import { createReadStream, openSync } from "node:fs";
import { mkdir, mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { parseDigest } from "../oci/digest.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { type BlobDescriptor, type BlobOpener, type DownloadOptions, downloadTo } from "./download.js";
import { pruneTemp } from "./gc.js";
import { CacheLayout, DIR_MODE } from "./layout.js";
import { type LockState, type LockTiming, acquireLock, unlinkQuietly } from "./lock.js";

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

export type BlobStoreOptions = LockTiming;

/** Downloads in progress in this process, keyed by final blob path (shared by all stores on one root). */
const inFlight = new Map<string, Promise<EnsureResult>>();

export class BlobStore {
  readonly root: string;
  readonly layout: CacheLayout;
  private readonly timing: LockTiming;
  private readonly isTemporary: boolean;
  private ready: Promise<void> | undefined;

  constructor(root: string, options: BlobStoreOptions = {}, isTemporary = false) {
    this.layout = new CacheLayout(root);
    this.root = this.layout.root;
    this.timing = options;
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

  /** Makes the blob present (downloading it at most once across callers and processes) and returns its path. */
  async ensure(
    descriptor: BlobDescriptor,
    opener: BlobOpener,
    options: EnsureOptions = {},
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
        await rename(temp, path);
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
      await makeDir(this.layout.tmpDir);
      await makeDir(this.layout.locksDir);
      await pruneTemp(this.root, this.timing).catch(() => undefined); // best effort, never fails a pull
    })();
    try {
      await this.ready;
    } catch (err) {
      this.ready = undefined; // let a later call try again (e.g. after the user fixed permissions)
      throw err;
    }
    await makeDir(this.layout.algorithmDir(algorithm));
  }

  private async removeLeftover(digest: string, stale: LockState): Promise<void> {
    const token = stale.info?.token;
    if (token && /^[a-z0-9]+$/.test(token)) await unlinkQuietly(this.layout.tempPath(digest, token));
  }
}

async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SregistryError(`cannot create blob cache directory ${dir}: ${reason}`, {
      code: "CACHE_WRITE",
      cause: err,
    });
  }
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
