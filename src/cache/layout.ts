/**
 * Where things live inside a blob store root, in one place so the store, its locks and the garbage
 * collector agree:
 *
 * ```
 * <root>/sha256/<hex>                  complete, verified blobs (the only names readers look at)
 * <root>/tmp/<hex>.<token>.partial     downloads in progress (same filesystem, so rename is atomic)
 * <root>/locks/<hex>.lock              one per blob being downloaded (pid, host, token, lease)
 * <root>/holds/<hex>.<token>.hold      a lease per blob a running pull uses (cache clean skips it)
 * <root>/used/<hex>                    empty; its mtime is the blob's last use (for cache clean)
 * ```
 *
 * Every digest passes `parseDigest` before it becomes a path component. Directories are created
 * 0700 and files 0600: a cache may hold layers of private images (NGC org images pulled with an API
 * key), and on a shared HPC login node other users must not read them. A cache an administrator made
 * group-writable (`chmod 2770`) is shared by that group: directories 2770 (setgid keeps the group
 * on everything below), files 0640.
 *
 * @example
 * ```ts
 * const layout = new CacheLayout("/home/u/.singularity/sregistry/blobs");
 * layout.blobPath("sha256:" + "ab".repeat(32)); // ".../blobs/sha256/abab..."
 * layout.tempPath("sha256:" + "ab".repeat(32), "1a2b"); // ".../blobs/tmp/abab....1a2b.partial"
 * ```
 */
import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isErrnoCode } from "../util/errors.js";
import { type Digest, parseDigest } from "../oci/digest.js";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
export const SHARED_DIR_MODE = 0o2770;
export const SHARED_FILE_MODE = 0o640;

/**
 * True when `dir`, or its nearest existing parent, is group-writable but not world-writable: a
 * cache shared by a group. (A cache to be created under /tmp, mode 1777, stays private.)
 */
export async function isGroupShared(dir: string): Promise<boolean> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      const mode = (await stat(current)).mode;
      return (mode & 0o020) !== 0 && (mode & 0o002) === 0;
    } catch (err) {
      if (!isErrnoCode(err, "ENOENT") || dirname(current) === current) throw err;
    }
  }
}

const TEMP_SUFFIX = ".partial";
const LOCK_SUFFIX = ".lock";

export class CacheLayout {
  readonly root: string;
  readonly tmpDir: string;
  readonly locksDir: string;
  readonly holdsDir: string;
  readonly usedDir: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tmpDir = join(this.root, "tmp");
    this.locksDir = join(this.root, "locks");
    this.holdsDir = join(this.root, "holds");
    this.usedDir = join(this.root, "used");
  }

  /** A use lease of one blob by one pull; `token` is the lease's random token. */
  holdPath(digest: string, token: string): string {
    if (!/^[a-z0-9]+$/.test(token)) throw new Error(`bad hold token ${JSON.stringify(token)}`);
    return join(this.holdsDir, `${parseDigest(digest).hex}.${token}.hold`);
  }

  /** The marker whose mtime records the blob's last use. */
  usedPath(digest: string): string {
    return join(this.usedDir, parseDigest(digest).hex);
  }

  /** Directory holding the blobs of one digest algorithm. */
  algorithmDir(algorithm: string): string {
    return join(this.root, algorithm);
  }

  /** Final path of a blob (whether or not it is present). */
  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, algorithm, hex);
  }

  lockPath(digest: string): string {
    return join(this.locksDir, parseDigest(digest).hex + LOCK_SUFFIX);
  }

  /** A download's temp file; `token` is the random token of the lock that owns it. */
  tempPath(digest: string, token: string): string {
    if (!/^[a-z0-9]+$/.test(token)) throw new Error(`bad lock token ${JSON.stringify(token)}`);
    return join(this.tmpDir, `${parseDigest(digest).hex}.${token}${TEMP_SUFFIX}`);
  }
}

/** Splits a temp file name back into blob hex and owning token; undefined for foreign names. */
export function parseTempName(name: string): { hex: string; token: string } | undefined {
  const match = /^([a-f0-9]{64}|[a-f0-9]{128})\.([a-z0-9]+)\.partial$/.exec(name);
  return match ? { hex: match[1]!, token: match[2]! } : undefined;
}

/** The blob hex a hold file name stands for; undefined for anything else in the holds dir. */
export function parseHoldName(name: string): string | undefined {
  const match = /^([a-f0-9]{64}|[a-f0-9]{128})\.[a-z0-9]+\.hold$/.exec(name);
  return match ? match[1] : undefined;
}

/** The blob hex a lock file name stands for; undefined for anything else in the locks dir. */
export function parseLockName(name: string): string | undefined {
  const match = /^([a-f0-9]{64}|[a-f0-9]{128})\.lock$/.exec(name);
  return match ? match[1] : undefined;
}

/** Rebuilds a digest from the directory it was found in and its file name, if they form a valid one. */
export function digestFromPath(algorithm: string, hex: string): Digest | undefined {
  try {
    return parseDigest(`${algorithm}:${hex}`).digest;
  } catch {
    return undefined;
  }
}

/** Where pulls keep blobs: `<SINGULARITY_CACHEDIR>/sregistry/blobs`. */
export function blobCacheDir(settings: { cacheDir: string }): string {
  return join(settings.cacheDir, "sregistry", "blobs");
}
