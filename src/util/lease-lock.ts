/**
 * Lease locks: a lock file that works across processes and hosts sharing a directory (NFS, Lustre,
 * GPFS, BeeGFS, CephFS), where `flock`/`fcntl` locks are unreliable or absent and a pid means
 * nothing outside its own host.
 *
 * The lock is a small JSON file `{pid, hostname, token, created, expires}` made to appear whole and
 * exclusively: written under a private scratch name, then hard-linked to the lock name (`link`
 * fails with EEXIST when the name is taken: the NFS-safe form of `O_CREAT|O_EXCL` recommended by
 * open(2) for NFSv2 and kept by lockfile-progs and Python's `lockfile`), with a plain `O_EXCL`
 * create where hard links are not supported. `expires` is the end of the lease: its holder renews
 * it (rewrites the file with a later expiry) while it holds the lock, others break it only after it
 * has passed, or sooner when the holder is a process of *this* host that no longer exists (a pid is
 * only checked when the hostname matches). Breaking renames the stale file aside and compares its
 * token, so a lock taken fresh in the meantime is put back, never stolen.
 *
 * Expiry is the holder's clock compared with the reader's: hosts must keep their clocks in step
 * (NTP), as every lease protocol assumes; a lease is minutes, skew is milliseconds.
 *
 * Both a synchronous acquire (for better-sqlite3, whose transactions are synchronous) and an
 * asynchronous one (for downloads, which keep renewing while they run) share the same file format,
 * so any tool version can break any other's stale lease.
 *
 * @example
 * ```ts
 * const lease = acquireLeaseSync("/nfs/home/u/.singularity/sregistry.db.lock", { timeoutMs: 30_000 });
 * try { writeSomething(); } finally { lease.release(); }
 *
 * const held = await acquireLease("/cache/locks/ab.lock", { isDone: () => blobIsThere() });
 * if (held) try { held.startRenewing(); await download(); } finally { held.release(); }
 * ```
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname as osHostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { SregistryError, isErrnoCode } from "./errors.js";
import { unlinkQuietlySync } from "./filesystem.js";

export interface LeaseInfo {
  pid: number;
  hostname: string;
  token: string;
  /** Epoch ms when the lock was taken. */
  created: number;
  /** Epoch ms when the lease ends unless renewed. */
  expires: number;
}

/** What is on disk at a lock path: its parsed content (undefined if unreadable) and its mtime. */
export interface LeaseState {
  info: LeaseInfo | undefined;
  mtimeMs: number;
}

export interface LeaseTiming {
  /** How long a lease lasts from its last renewal. Default 60 s. */
  leaseMs?: number;
  /** This host's name as written into locks (tests pretend to be another host). */
  hostname?: string;
  /** Mode of the lock file (default 0600; 0640 in a group-shared directory). */
  fileMode?: number;
  /** Clock (tests). */
  now?: () => number;
}

export interface WaitOptions extends LeaseTiming {
  /** First and longest pause between polls of a busy lock. Defaults 50 ms and 1 s. */
  pollMs?: number;
  maxPollMs?: number;
  /** Give up after this long with a LOCK_TIMEOUT error; default: wait as long as the holder lives. */
  timeoutMs?: number;
  /** Called after a stale lock was removed, with what it said, to clean up what its holder left. */
  onBreak?: (stale: LeaseState) => void | Promise<void>;
}

export interface AsyncWaitOptions extends WaitOptions {
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  /** Polled while waiting; when it returns true, stop waiting and return undefined. */
  isDone?: () => Promise<boolean>;
}

export const DEFAULT_LEASE_MS = 60_000;

/** A lease this process holds. `release()` is idempotent and leaves another holder's lock alone. */
export class Lease {
  readonly path: string;
  readonly token: string;
  private readonly info: LeaseInfo;
  private readonly timing: LeaseTiming;
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(path: string, info: LeaseInfo, timing: LeaseTiming) {
    this.path = path;
    this.token = info.token;
    this.info = info;
    this.timing = timing;
  }

  /** When the lease ends unless renewed (epoch ms). */
  get expires(): number {
    return this.info.expires;
  }

  /**
   * Pushes the expiry `leaseMs` ahead; false when the lock is no longer ours (it expired and was
   * broken). The new content replaces the old by rename, so readers never see a partial file. The
   * token check and the rename are two steps: a holder whose lease ran out *and* was taken over in
   * between could overwrite the new holder's lock. Renewing every quarter lease makes that need
   * three missed renewals first; callers guard nothing whose correctness depends on the lock alone.
   */
  renew(): boolean {
    if (this.released) return false;
    if (readLeaseSync(this.path)?.info?.token !== this.token) return false;
    this.info.expires = clock(this.timing) + leaseMsOf(this.timing);
    const scratch = `${this.path}.${this.token}.renew`;
    try {
      unlinkQuietlySync(scratch); // left by a renewal that was interrupted

      writeNew(scratch, this.info, this.timing.fileMode);
      renameSync(scratch, this.path);
      return true;
    } catch {
      unlinkQuietlySync(scratch);
      return false;
    }
  }

  /** Renews every `intervalMs` (default a quarter of the lease) until released; the timer is unref'd. */
  startRenewing(intervalMs = Math.max(10, Math.floor(leaseMsOf(this.timing) / 4))): void {
    if (this.timer || this.released) return;
    this.timer = setInterval(() => this.renew(), intervalMs);
    this.timer.unref();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    // Only remove our own lock: if ours was broken and someone else holds the name now, leave theirs.
    if (readLeaseSync(this.path)?.info?.token === this.token) unlinkQuietlySync(this.path);
  }
}

/** One attempt to take the lock; undefined if someone holds it. */
export function tryTakeLease(path: string, timing: LeaseTiming = {}): Lease | undefined {
  const now = clock(timing);
  const info: LeaseInfo = {
    pid: process.pid,
    hostname: timing.hostname ?? osHostname(),
    token: randomBytes(8).toString("hex"),
    created: now,
    expires: now + leaseMsOf(timing),
  };
  return createExclusively(path, info, timing.fileMode) ? new Lease(path, info, timing) : undefined;
}

/** Reads a lock; undefined when there is none. Unparseable content yields `info: undefined`. */
export function readLeaseSync(path: string): LeaseState | undefined {
  try {
    const text = readFileSync(path, "utf8");
    const mtimeMs = statSync(path).mtimeMs;
    return { info: parseLeaseInfo(text, mtimeMs), mtimeMs };
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return undefined;
    throw err;
  }
}

/**
 * True when others may break the lock: its lease has passed, or its holder is a process of this
 * host that is gone. A file without a readable lease (being written by an old version, or garbage)
 * counts from its mtime with this reader's `leaseMs`.
 */
export function isLeaseExpired(state: LeaseState, timing: LeaseTiming = {}, now = clock(timing)): boolean {
  const info = state.info;
  if (!info) return now - state.mtimeMs > leaseMsOf(timing);
  if (now > info.expires) return true;
  if (info.hostname !== (timing.hostname ?? osHostname())) return false; // a pid elsewhere means nothing here
  return !isProcessAlive(info.pid);
}

/** Removes a stale lock unless it changed under us; true when the stale one is gone by our hand. */
export function breakLease(path: string, stale: LeaseState): boolean {
  const aside = `${path}.${randomBytes(8).toString("hex")}.stale`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return false; // someone else broke or released it
    throw err;
  }
  const taken = readLeaseSync(aside);
  const sameLock = taken !== undefined && taken.info?.token === stale.info?.token;
  if (!sameLock) {
    // We moved a fresh lock: put it back unless yet another one appeared meanwhile.
    try {
      linkSync(aside, path);
    } catch (err) {
      if (!isErrnoCode(err, "EEXIST")) throw err;
    }
  }
  unlinkQuietlySync(aside);
  return sameLock;
}

/** Takes the lock, blocking the thread between polls (for synchronous callers such as SQLite writes). */
export function acquireLeaseSync(path: string, options: WaitOptions = {}): Lease {
  const started = clock(options);
  let pause = options.pollMs ?? 20;
  for (;;) {
    const held = tryTakeLease(path, options);
    if (held) return held;
    const state = readLeaseSync(path);
    if (state === undefined) continue;
    if (isLeaseExpired(state, options)) {
      if (breakLease(path, state)) void options.onBreak?.(state);
      continue;
    }
    if (options.timeoutMs !== undefined && clock(options) - started >= options.timeoutMs) {
      throw lockTimeout(path, state);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    pause = Math.min(pause * 2, options.maxPollMs ?? 250);
  }
}

/** Takes the lock, waiting for a live holder; undefined when `isDone` said the wait is over. */
export async function acquireLease(path: string, options: AsyncWaitOptions = {}): Promise<Lease | undefined> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, { signal: options.signal }));
  const started = clock(options);
  let pause = options.pollMs ?? 50;
  for (;;) {
    options.signal?.throwIfAborted();
    const held = tryTakeLease(path, options);
    if (held) return held;
    const state = readLeaseSync(path);
    if (state === undefined) continue; // released between our attempt and the read: try again now
    if (isLeaseExpired(state, options)) {
      if (breakLease(path, state)) await options.onBreak?.(state);
      continue;
    }
    if (options.isDone && (await options.isDone())) return undefined;
    if (options.timeoutMs !== undefined && clock(options) - started >= options.timeoutMs) {
      throw lockTimeout(path, state);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, options.maxPollMs ?? 1000);
  }
}

/** One line naming the lock and its holder, for a user who has to decide whether to wait or clean up. */
export function lockTimeout(path: string, state: LeaseState): SregistryError {
  const info = state.info;
  const holder = info
    ? `held by host ${info.hostname} (pid ${info.pid}) until ${new Date(info.expires).toISOString()}`
    : "held by an unreadable lock file";
  return new SregistryError(
    `timed out waiting for the lock ${path}, ${holder}; try again later, or delete the lock file if that host is down`,
    { code: "LOCK_TIMEOUT" },
  );
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

/**
 * Parses a lock file. Locks written before leases existed (no `expires`, kept alive by touching
 * their mtime) get one from `mtimeMs` plus the default lease, so they still expire.
 */
export function parseLeaseInfo(text: string, mtimeMs: number): LeaseInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseInfo>;
    if (typeof value.pid !== "number" || typeof value.hostname !== "string") return undefined;
    if (typeof value.token !== "string" || typeof value.created !== "number") return undefined;
    const expires = typeof value.expires === "number" ? value.expires : mtimeMs + DEFAULT_LEASE_MS;
    return { pid: value.pid, hostname: value.hostname, token: value.token, created: value.created, expires };
  } catch {
    return undefined;
  }
}

function leaseMsOf(timing: LeaseTiming): number {
  return timing.leaseMs ?? DEFAULT_LEASE_MS;
}

function clock(timing: LeaseTiming): number {
  return timing.now ? timing.now() : Date.now();
}

/** Makes `path` appear with its full content at once, failing (false) if it exists. */
function createExclusively(path: string, info: LeaseInfo, mode = 0o600): boolean {
  const scratch = `${path}.${info.token}`;
  writeNew(scratch, info, mode);
  try {
    linkSync(scratch, path);
    return true;
  } catch (err) {
    if (isErrnoCode(err, "EEXIST")) return false;
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].some((code) => isErrnoCode(err, code))) throw err;
    return createWithOExcl(path, info, mode); // filesystem without hard links
  } finally {
    unlinkQuietlySync(scratch);
  }
}

function createWithOExcl(path: string, info: LeaseInfo, mode: number): boolean {
  try {
    writeNew(path, info, mode);
    return true;
  } catch (err) {
    if (isErrnoCode(err, "EEXIST")) return false;
    throw err;
  }
}

function writeNew(path: string, info: LeaseInfo, mode = 0o600): void {
  const fd = openSync(path, "wx", mode);
  try {
    fchmodSync(fd, mode); // the umask must not take the group bits of a shared directory's locks
    writeSync(fd, JSON.stringify(info) + "\n");
  } finally {
    closeSync(fd);
  }
}
