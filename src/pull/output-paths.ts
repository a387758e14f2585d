/**
 * Checks on where a pull will write, made before anything is downloaded, so that a read-only
 * storage, a directory given as `--name` or an impossible file name fails in a second, naming the
 * user's path, instead of after the download and build with an internal temporary name.
 *
 * Limits are Linux's: a name component is at most NAME_MAX = 255 bytes and a path at most
 * PATH_MAX = 4096 bytes including its terminating NUL (limits.h); `access(W_OK)` reports EROFS on
 * a read-only filesystem even for root (access(2)).
 *
 * `placeCopy` gives `--name` its file when the image itself lives in storage: a hard link to the
 * stored SIF (no extra space), or a copy across filesystems, appearing atomically.
 *
 * @example
 * ```ts
 * await checkOutputFile("./my.sif", "--name"); // throws "--name ./my.sif is a directory; …"
 * await checkWritableDir(storageDir, "image storage");
 * await placeCopy(storedSif, "./my.sif");
 * ```
 */
import { constants } from "node:fs";
import { access, copyFile, link, lstat, rename, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { siblingTempPath } from "../util/temp-name.js";

export const NAME_MAX = 255;
export const PATH_MAX = 4096;

/** Throws when `path` cannot become a file: too long, a directory, or in a folder we cannot write. */
export async function checkOutputFile(path: string, what: string): Promise<void> {
  const full = resolve(path);
  checkPathLength(full, `${what} ${shorten(path)}`);
  const info = await lstat(full).catch((err: unknown) => {
    if (isErrnoCode(err, "ENOENT") || isErrnoCode(err, "ENOTDIR")) return undefined;
    throw err;
  });
  if (info?.isDirectory()) {
    throw new SregistryError(
      `${what} ${shorten(path)} is a directory; give a file name such as ${join(path, "image.sif")}`,
      {
        code: "BAD_NAME",
      },
    );
  }
  await checkWritableDir(dirname(full), `${what} ${shorten(path)}`);
}

/** Throws when the name components or the whole path exceed the filesystem's limits. */
export function checkPathLength(full: string, what: string): void {
  if (Buffer.byteLength(full) >= PATH_MAX) {
    throw new SregistryError(`${what}: the path is longer than ${PATH_MAX - 1} bytes`, { code: "BAD_NAME" });
  }
  const long = full.split(sep).find((part) => Buffer.byteLength(part) > NAME_MAX);
  if (long !== undefined) {
    throw new SregistryError(`${what}: the name ${shorten(long)} is longer than ${NAME_MAX} bytes`, {
      code: "BAD_NAME",
    });
  }
}

/**
 * Throws when files cannot be created in `dir` (or, when it does not exist yet, in the closest
 * existing folder above it, where it would be created).
 */
export async function checkWritableDir(dir: string, what: string): Promise<void> {
  const existing = await nearestExistingDir(resolve(dir), what);
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    const why = isErrnoCode(err, "EROFS")
      ? "it is on a read-only filesystem"
      : isErrnoCode(err, "EACCES") || isErrnoCode(err, "EPERM")
        ? "permission denied"
        : String((err as NodeJS.ErrnoException).code ?? err);
    const where = existing === resolve(dir) ? existing : `${existing} (to create ${resolve(dir)})`;
    throw new SregistryError(`cannot write to ${what}: ${where}: ${why}`, { code: "NOT_WRITABLE" });
  }
}

async function nearestExistingDir(dir: string, what: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current).catch((err: unknown) => {
      if (isErrnoCode(err, "ENOENT")) return undefined;
      if (isErrnoCode(err, "ENOTDIR")) return null;
      throw err;
    });
    if (info === null || (info !== undefined && !info.isDirectory())) {
      throw new SregistryError(`cannot write to ${what}: ${current} is in the way and is not a folder`, {
        code: "NOT_WRITABLE",
      });
    }
    if (info !== undefined) return current;
    if (dirname(current) === current) return current;
  }
}

/** Makes `dest` a hard link to `src` (a copy across filesystems), replacing `dest` atomically. */
export async function placeCopy(src: string, dest: string): Promise<void> {
  const full = resolve(dest);
  if (full === resolve(src)) return;
  const temp = siblingTempPath(full);
  try {
    await link(src, temp).catch(async (err: unknown) => {
      if (!["EXDEV", "EPERM", "EMLINK", "ENOTSUP", "EOPNOTSUPP"].some((code) => isErrnoCode(err, code)))
        throw err;
      await copyFile(src, temp);
    });
    await rename(temp, full);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** A user's path in a message: at most 80 characters. */
function shorten(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 40)}…${text.slice(-20)} (${text.length} characters)`;
}
