/**
 * Advisory lock files that work across processes and hosts sharing a cache (NFS home directories).
 *
 * A lock is a small JSON file `{pid, hostname, token, created}` that appears atomically: written to
 * a private name first, then hard-linked to the lock name (link fails with EEXIST if anyone holds
 * it; this is the classic NFS-safe variant of O_EXCL, with an O_EXCL fallback where hard links are
 * unsupported). The holder touches the file's mtime every `heartbeatMs`. A lock is stale when its
 * process is gone (same host, `kill(pid, 0)` says ESRCH) or when nobody touched it for `staleMs`.
 * A stale lock is first renamed aside, then its token is compared: if a fresh lock was grabbed by
 * mistake it is linked back, so breaking never silently steals a live lock.
 *
 * The lock only avoids duplicate work; correctness of what it guards must not depend on it (the
 * blob store writes unique temp files and renames verified content, so a rare double holder can
 * only cost a second download).
 *
 * @example
 * ```ts
 * const held = await acquireLock("/cache/locks/abc.lock", { isDone: () => store.has(digest) });
 * if (held) try { await work(); } finally { await held.release(); }
 * ```
 */
import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { isErrnoCode } from "../util/errors.js";
import { FILE_MODE } from "./layout.js";

export interface LockInfo {
  pid: number;
  hostname: string;
  token: string;
  created: number;
}

/** What is on disk at a lock path: its parsed content (if readable) and when it was last touched. */
export interface LockState {
  info: LockInfo | undefined;
  mtimeMs: number;
}

export interface LockTiming {
  /** A lock untouched for this long is stale even if its process may live elsewhere. Default 5 min. */
  staleMs?: number;
  /** How often the holder touches its lock. Default 15 s. */
  heartbeatMs?: number;
  /** First and longest pause between polls of a busy lock. Defaults 50 ms and 1 s. */
  pollMs?: number;
  maxPollMs?: number;
  /** This host's name as written into locks (tests pretend to be another host). */
  hostname?: string;
}

export interface AcquireOptions extends LockTiming {
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  /** Polled while waiting; when it returns true, stop waiting and return undefined. */
  isDone?: () => Promise<boolean>;
  /** Called after a stale lock was removed, with what it said, to clean up what its holder left. */
  onBreak?: (stale: LockState) => Promise<void>;
}

export const DEFAULT_STALE_MS = 5 * 60_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** A lock this process holds; `release()` is idempotent. */
export class HeldLock {
  readonly path: string;
  readonly token: string;
  private readonly timer: NodeJS.Timeout;
  private released = false;

  constructor(path: string, token: string, heartbeatMs: number) {
    this.path = path;
    this.token = token;
    this.timer = setInterval(() => void this.touch(), heartbeatMs);
    this.timer.unref();
  }

  /** Marks the lock as alive (called by the heartbeat timer; callers may touch it too). */
  async touch(): Promise<void> {
    if (this.released) return;
    const now = new Date();
    await utimes(this.path, now, now).catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    const state = await readLock(this.path);
    // Only remove our own lock: if ours was broken and someone else holds the name now, leave theirs.
    if (state?.info?.token === this.token) await unlinkQuietly(this.path);
  }
}

/** Takes the lock at `path`, waiting for a live holder; undefined when `isDone` said the wait is over. */
export async function acquireLock(path: string, options: AcquireOptions = {}): Promise<HeldLock | undefined> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, { signal: options.signal }));
  let pause = options.pollMs ?? 50;
  for (;;) {
    options.signal?.throwIfAborted();
    const held = await tryCreateLock(path, options);
    if (held) return held;
    const state = await readLock(path);
    if (state === undefined) continue; // released between our attempt and the read: try again now
    if (isLockStale(state, options)) {
      if (await breakLock(path, state)) await options.onBreak?.(state);
      continue;
    }
    if (options.isDone && (await options.isDone())) return undefined;
    await sleep(pause);
    pause = Math.min(pause * 2, options.maxPollMs ?? 1000);
  }
}

/** One attempt to create the lock; undefined if someone holds it. */
export async function tryCreateLock(path: string, timing: LockTiming = {}): Promise<HeldLock | undefined> {
  const token = randomBytes(8).toString("hex");
  const info: LockInfo = {
    pid: process.pid,
    hostname: timing.hostname ?? osHostname(),
    token,
    created: Date.now(),
  };
  const content = JSON.stringify(info) + "\n";
  const created = await createAtomically(path, `${path}.${token}`, content);
  return created ? new HeldLock(path, token, timing.heartbeatMs ?? DEFAULT_HEARTBEAT_MS) : undefined;
}

/** Reads a lock; undefined when there is none. Unparseable content yields `info: undefined`. */
export async function readLock(path: string): Promise<LockState | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { info: parseLockInfo(text), mtimeMs: info.mtimeMs };
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return undefined;
    throw err;
  }
}

/** Dead process on this host, or no sign of life for `staleMs`. */
export function isLockStale(state: LockState, timing: LockTiming = {}, now = Date.now()): boolean {
  if (now - state.mtimeMs > (timing.staleMs ?? DEFAULT_STALE_MS)) return true;
  const info = state.info;
  if (!info || info.hostname !== (timing.hostname ?? osHostname())) return false;
  return !isProcessAlive(info.pid);
}

/** Removes a stale lock unless it changed under us; true when the stale one is gone by our hand. */
export async function breakLock(path: string, stale: LockState): Promise<boolean> {
  const aside = `${path}.${randomBytes(8).toString("hex")}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return false; // someone else broke or released it
    throw err;
  }
  const taken = await readLock(aside);
  const sameLock = taken !== undefined && taken.info?.token === stale.info?.token;
  if (!sameLock) {
    // We moved a fresh lock: put it back unless yet another one appeared meanwhile.
    await link(aside, path).catch((err: unknown) => {
      if (!isErrnoCode(err, "EEXIST")) throw err;
    });
  }
  await unlinkQuietly(aside);
  return sameLock;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrnoCode(err, "EPERM"); // exists but belongs to another user
  }
}

function parseLockInfo(text: string): LockInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockInfo>;
    if (typeof value.pid !== "number" || typeof value.hostname !== "string") return undefined;
    if (typeof value.token !== "string" || typeof value.created !== "number") return undefined;
    return value as LockInfo;
  } catch {
    return undefined;
  }
}

/** Makes `path` appear with its full content at once, failing (false) if it exists. */
async function createAtomically(path: string, scratch: string, content: string): Promise<boolean> {
  const handle = await open(scratch, "wx", FILE_MODE);
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  try {
    await link(scratch, path);
    return true;
  } catch (err) {
    if (isErrnoCode(err, "EEXIST")) return false;
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].some((code) => isErrnoCode(err, code))) throw err;
    return createExclusive(path, content); // filesystem without hard links
  } finally {
    await unlinkQuietly(scratch);
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx", FILE_MODE);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if (isErrnoCode(err, "EEXIST")) return false;
    throw err;
  }
}

export async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if (!isErrnoCode(err, "ENOENT")) throw err;
  });
}
