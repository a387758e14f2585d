/**
 * Lock files for the blob cache, shared by processes and hosts (NFS home directories, Lustre or
 * GPFS scratch): one per blob being downloaded, so a blob is fetched once however many pullers ask.
 *
 * These are the lease locks of util/lease-lock.ts behind the cache's historical API: the file
 * `{pid, hostname, token, created, expires}` appears atomically (link from a scratch name, O_EXCL
 * fallback); the holder renews its lease every `heartbeatMs`; others take it over once the lease
 * (`staleMs`) has passed, or at once when the holder was a process of this same host that is gone. A
 * pid is never checked for a lock written by another host, so a node that crashed mid-download
 * costs the others one lease time, not a lock forever. Breaking renames the stale lock aside and
 * compares tokens, so a fresh lock is never stolen. Lock files written before leases existed (no
 * `expires`, kept alive by their mtime) expire `staleMs` after their last touch.
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
import { hostname as osHostname } from "node:os";
import {
  type Lease,
  type LeaseState,
  acquireLease,
  breakLease,
  isProcessAlive,
  readLeaseSync,
  tryTakeLease,
} from "../util/lease-lock.js";
import { FILE_MODE } from "./layout.js";

export { isProcessAlive };

export interface LockInfo {
  pid: number;
  hostname: string;
  token: string;
  created: number;
  /** End of the holder's lease (epoch ms); absent in locks written before leases existed. */
  expires?: number;
}

/** What is on disk at a lock path: its parsed content (if readable) and when it was last touched. */
export interface LockState {
  info: LockInfo | undefined;
  mtimeMs: number;
}

export interface LockTiming {
  /** Lease length: a lock not renewed for this long is taken over, from any host. Default 60 s. */
  staleMs?: number;
  /** How often the holder renews its lease. Default 15 s. */
  heartbeatMs?: number;
  /** First and longest pause between polls of a busy lock. Defaults 50 ms and 1 s. */
  pollMs?: number;
  maxPollMs?: number;
  /** This host's name as written into locks (tests pretend to be another host). */
  hostname?: string;
  /** Mode of lock files (0640 in a group-shared cache). Default 0600. */
  fileMode?: number;
}

export interface AcquireOptions extends LockTiming {
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  /** Polled while waiting; when it returns true, stop waiting and return undefined. */
  isDone?: () => Promise<boolean>;
  /** Called after a stale lock was removed, with what it said, to clean up what its holder left. */
  onBreak?: (stale: LockState) => Promise<void>;
}

export const DEFAULT_STALE_MS = 60_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** A lock this process holds, renewed until `release()` (idempotent). */
export class HeldLock {
  readonly path: string;
  readonly token: string;
  private readonly lease: Lease;

  constructor(lease: Lease, heartbeatMs: number) {
    this.lease = lease;
    this.path = lease.path;
    this.token = lease.token;
    lease.startRenewing(heartbeatMs);
  }

  /** Renews the lease now (the renewal timer does it too). */
  async touch(): Promise<void> {
    this.lease.renew();
  }

  async release(): Promise<void> {
    this.lease.release();
  }
}

/** Takes the lock at `path`, waiting for a live holder; undefined when `isDone` said the wait is over. */
export async function acquireLock(path: string, options: AcquireOptions = {}): Promise<HeldLock | undefined> {
  const lease = await acquireLease(path, {
    ...leaseTiming(options),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.isDone ? { isDone: options.isDone } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.maxPollMs !== undefined ? { maxPollMs: options.maxPollMs } : {}),
    ...(options.onBreak ? { onBreak: options.onBreak } : {}),
  });
  return lease && new HeldLock(lease, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
}

/** One attempt to create the lock; undefined if someone holds it. */
export async function tryCreateLock(path: string, timing: LockTiming = {}): Promise<HeldLock | undefined> {
  const lease = tryTakeLease(path, leaseTiming(timing));
  return lease && new HeldLock(lease, timing.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
}

/** Reads a lock; undefined when there is none. Unparseable content yields `info: undefined`. */
export async function readLock(path: string): Promise<LockState | undefined> {
  return readLeaseSync(path);
}

/** Lease over (any host), or a dead process on this host; unreadable locks age from their mtime. */
export function isLockStale(state: LockState, timing: LockTiming = {}, now = Date.now()): boolean {
  const staleMs = timing.staleMs ?? DEFAULT_STALE_MS;
  const info = state.info;
  if (!info) return now - state.mtimeMs > staleMs;
  if (now > (info.expires ?? state.mtimeMs + staleMs)) return true;
  if (info.hostname !== (timing.hostname ?? osHostname())) return false; // a pid elsewhere means nothing here
  return !isProcessAlive(info.pid);
}

/** Removes a stale lock unless it changed under us; true when the stale one is gone by our hand. */
export async function breakLock(path: string, stale: LockState): Promise<boolean> {
  return breakLease(path, stale as LeaseState);
}

function leaseTiming(timing: LockTiming) {
  return {
    leaseMs: timing.staleMs ?? DEFAULT_STALE_MS,
    fileMode: timing.fileMode ?? FILE_MODE,
    ...(timing.hostname !== undefined ? { hostname: timing.hostname } : {}),
  };
}
