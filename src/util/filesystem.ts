/**
 * Which filesystem a path lives on, and whether it is shared over a network; and the one quiet
 * unlink (`unlinkQuietly`, `unlinkQuietlySync`: a file already gone is not an error).
 *
 * `statfs(2)` reports the filesystem's `f_type` magic number. The numbers below come from the
 * kernel's include/uapi/linux/magic.h (NFS, SMB, CIFS, SMB2, CephFS, 9p, AFS, Coda, OCFS2, FUSE
 * from fs/fuse/inode.c) and from the vendors' clients for the parallel filesystems the kernel does
 * not ship: Lustre (`LL_SUPER_MAGIC`, lustre/include/uapi/linux/lustre/lustre_user.h), IBM Storage
 * Scale/GPFS (0x47504653, "GPFS"), BeeGFS (`BEEGFS_MAGIC`, client_module fhgfs_fs.h), PanFS,
 * OrangeFS/PVFS2. git's fsmonitor and coreutils' `stat -f` classify remote filesystems the same
 * way. FUSE is counted as network: most FUSE mounts on clusters (sshfs, GlusterFS, s3fs, rclone)
 * are, and for SQLite the safe side is the rollback journal.
 *
 * SQLite's WAL needs shared memory between every process using the database, so "WAL does not
 * work over a network filesystem" (https://www.sqlite.org/wal.html, "Disadvantages").
 *
 * @example
 * ```ts
 * const fs = filesystemOf("/home/u/.singularity"); // { name: "nfs", network: true, type: 0x6969 }
 * const fake = filesystemOf("/tmp", () => ({ type: 0x0bd00bd0 })); // lustre, for tests
 * ```
 */
import { statfsSync, unlinkSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { isErrnoCode } from "./errors.js";

/** `statfs` as far as we need it; injectable so tests can pretend a directory is on NFS or Lustre. */
export type StatfsFn = (path: string) => { type: number };

export interface FilesystemInfo {
  /** Short name (`nfs`, `lustre`, `ext4`, ...) or `0x…` for an unknown magic number. */
  name: string;
  /** True for filesystems shared between hosts (and FUSE): no WAL, leases instead of pid checks. */
  network: boolean;
  type: number;
}

const NETWORK: Record<number, string> = {
  0x6969: "nfs",
  0x517b: "smb",
  0xff534d42: "cifs",
  0xfe534d42: "smb2",
  0x0bd00bd0: "lustre",
  0x47504653: "gpfs",
  0x19830326: "beegfs",
  0x00c36400: "cephfs",
  0x65735546: "fuse",
  0x01021997: "9p",
  0x6b414653: "afs",
  0x5346414f: "afs",
  0x73757245: "coda",
  0x7461636f: "ocfs2",
  0x01161970: "gfs2",
  0xaad7aaea: "panfs",
  0x20030528: "orangefs",
};

const LOCAL: Record<number, string> = {
  0xef53: "ext4",
  0x58465342: "xfs",
  0x9123683e: "btrfs",
  0x01021994: "tmpfs",
  0x2fc12fc1: "zfs",
  0x794c7630: "overlay",
  0x858458f6: "ramfs",
  0xf2f52010: "f2fs",
};

/**
 * The filesystem holding `path`, or its nearest existing parent (a file about to be created lives
 * where its directory is).
 */
export function filesystemOf(path: string, statfs: StatfsFn = statfsSync): FilesystemInfo {
  const type = statfsNearest(path, statfs) >>> 0; // f_type is unsigned; Node may hand a negative number
  const network = NETWORK[type];
  if (network !== undefined) return { name: network, network: true, type };
  return { name: LOCAL[type] ?? `0x${type.toString(16)}`, network: false, type };
}

function statfsNearest(path: string, statfs: StatfsFn): number {
  for (let current = path; ;) {
    try {
      return statfs(current).type;
    } catch (err) {
      const parent = dirname(current);
      if (!isErrnoCode(err, "ENOENT") || parent === current) throw err;
      current = parent;
    }
  }
}

/**
 * Removes a file that may already be gone (another process cleaned it, or it was never made).
 * ENOENT is success; any other error (EACCES, EISDIR, EIO) is thrown. On a failure path, where
 * the original error must stay the one reported, add `.catch(() => undefined)`.
 *
 * @example
 * ```ts
 * await unlinkQuietly(join(cacheRoot, "tmp", `${hex}.${token}.partial`));
 * ```
 */
export async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if (!isErrnoCode(err, "ENOENT")) throw err;
  });
}

/**
 * `unlinkQuietly` for synchronous code (lease files, steps inside a SQLite transaction).
 *
 * @example
 * ```ts
 * unlinkQuietlySync(`${lockPath}.scratch`);
 * ```
 */
export function unlinkQuietlySync(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isErrnoCode(err, "ENOENT")) throw err;
  }
}
