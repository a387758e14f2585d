/**
 * Where image files live in storage, and how they get there without ever showing a partial file.
 *
 * Layout (the original's): `<storage>/<collection>/<name>/<tag>@<version>.sif`, `<tag>.sif` when the
 * version is empty; the collection may hold `/` (nested NGC names like `nvidia/clara`). Every component
 * is checked so no name can point outside the storage folder.
 *
 * `placeFile` moves or copies a file into place atomically: into `.<name>.tmp-<random>` in the target
 * folder, fsync, rename over the final name, fsync the folder. A move across filesystems (EXDEV)
 * falls back to copy + fsync + rename + unlink of the source.
 *
 * @example
 * ```ts
 * const dest = storagePath(storage, { collection: "library", name: "busybox", tag: "latest", version: hex });
 * await placeFile("/tmp/build/busybox.sif", dest, { copy: false });
 * await removeEmptyDirs(dirname(oldPath), storage);
 * ```
 */
import { createHash } from "node:crypto";
import { createReadStream, rmdirSync } from "node:fs";
import { copyFile, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { siblingTempPath } from "../util/temp-name.js";

export interface StorageName {
  collection: string;
  name: string;
  tag: string;
  /** "" or undefined → `<tag>.sif`. */
  version?: string | null;
}

export interface PlaceFileOptions {
  /** Copy instead of move (the source is left in place). */
  copy: boolean;
  /** Replaceable `rename`, for tests that simulate a cross-device move. */
  rename?: (from: string, to: string) => Promise<void>;
}

function checkComponent(value: string, what: string, allowSlash: boolean): void {
  const parts = allowSlash ? value.split("/") : [value];
  const bad =
    value === "" ||
    value.includes("\0") ||
    value.includes("\\") ||
    (!allowSlash && value.includes("/")) ||
    parts.some((part) => part === "" || part === "." || part === "..");
  if (bad)
    throw new SregistryError(`Invalid ${what} for storage: ${JSON.stringify(value)}`, { code: "BAD_NAME" });
}

/** The storage file of an image; throws SregistryError for names that could escape `storageDir`. */
export function storagePath(storageDir: string, image: StorageName): string {
  checkComponent(image.collection, "collection", true);
  checkComponent(image.name, "name", false);
  checkComponent(image.tag, "tag", false);
  const version = image.version ?? "";
  if (version !== "") checkComponent(version, "version", false);
  const fileName = version === "" ? `${image.tag}.sif` : `${image.tag}@${version}.sif`;
  const root = resolve(storageDir);
  const path = join(root, ...image.collection.split("/"), image.name, fileName);
  if (!isInside(path, root)) {
    throw new SregistryError(`Invalid image name for storage: ${image.collection}/${image.name}`, {
      code: "BAD_NAME",
    });
  }
  return path;
}

/** True when `path` is strictly inside `root` (both resolved first): `isInside("/s/a", "/s")` is true. */
export function isInside(path: string, root: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel !== "" && rel !== ".." && !rel.startsWith(".." + sep) && !isAbsolute(rel);
}

async function fsyncPath(path: string, flags = "r"): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Directory fsync makes the rename durable; some filesystems refuse it, which is not an error. */
async function fsyncDir(path: string): Promise<void> {
  try {
    await fsyncPath(path);
  } catch (err) {
    if (!isErrnoCode(err, "EINVAL") && !isErrnoCode(err, "EISDIR") && !isErrnoCode(err, "EPERM")) throw err;
  }
}

/** Moves (or copies) `src` to `dest` atomically; `dest` either keeps its old content or gets the whole new one. */
export async function placeFile(src: string, dest: string, options: PlaceFileOptions): Promise<void> {
  const renameFile = options.rename ?? rename;
  const dir = dirname(dest);
  await mkdir(dir, { recursive: true });
  const temp = siblingTempPath(dest);
  let movedSource = false;
  try {
    if (options.copy) {
      await copyFile(src, temp);
    } else {
      movedSource = await moveOrCopy(src, temp, renameFile);
    }
    await fsyncPath(temp, "r+");
    await renameFile(temp, dest);
  } catch (err) {
    // Give a moved source back rather than losing it; otherwise just drop the temp file.
    if (movedSource) await renameFile(temp, src).catch(() => unlink(temp).catch(() => undefined));
    else await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
  if (!options.copy && !movedSource) await unlink(src);
}

/** true when `src` was renamed into `temp`; false when it was copied (EXDEV) and must be unlinked later. */
async function moveOrCopy(
  src: string,
  temp: string,
  renameFile: (from: string, to: string) => Promise<void>,
): Promise<boolean> {
  try {
    await renameFile(src, temp);
    return true;
  } catch (err) {
    if (!isErrnoCode(err, "EXDEV")) throw err;
    await copyFile(src, temp);
    return false;
  }
}

/**
 * Removes `from` and its parents while empty, stopping before `upTo` (never removed) or outside it.
 * Synchronous so it can run inside a catalog transaction; a folder that is not empty or not ours to
 * remove ends the walk.
 */
export function removeEmptyDirs(from: string, upTo: string): void {
  const root = resolve(upTo);
  let dir = resolve(from);
  while (isInside(dir, root)) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if (!isErrnoCode(err, "ENOENT")) {
        if (["ENOTEMPTY", "EEXIST", "ENOTDIR", "EACCES", "EPERM", "EBUSY"].some((c) => isErrnoCode(err, c)))
          return;
        throw err;
      }
    }
    dir = dirname(dir);
  }
}

/**
 * Lower-case hex sha256 of a file's content, read as a stream in 1 MiB pieces (the default 64 KiB
 * meant 16 times the reads, and allocations, for a multi-gigabyte SIF).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}
