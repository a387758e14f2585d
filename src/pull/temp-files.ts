/**
 * Names of the files and directories a pull builds before renaming them into place, and the
 * clean-up of those a killed pull left behind.
 *
 * Every SIF bound for storage is built in ONE directory, `<storage>/.sregistry-tmp/` (same
 * filesystem as storage, so the last step is an atomic rename), which every command cleans when it
 * starts (`removeStaleBuildsSync`, called from the `Context`); it also holds the per-build locks
 * (`build-<key>.lock`) that let a second pull of the same image wait for the first. Builds that
 * do not go to storage (`--no-cache`, `--sandbox`) happen next to their final place. Either way a
 * temporary's name says who made it: `.sregistry-build-<host>-<pid>-<random><suffix>`. Cleaning removes
 * the ones whose process is gone (same host, pid no longer running) or that are older than a week
 * (another host's, on shared storage), and the tools' own temporaries named after them
 * (`.<our temp name>.<pid>.sqfs`, written by the squashfs builder next to its output). Nothing such a name holds is ever visible as an image.
 *
 * @example
 * ```ts
 * await removeStaleBuilds(storageDir);
 * const tmp = buildTempPath(storageDir, ".sif");
 * ```
 */
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync, statSync } from "node:fs";
import { chmod, lstat, readdir, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "../cache/lock.js";

const PREFIX = ".sregistry-build-";
/** The build directory's name inside the storage folder. */
export const BUILD_DIR_NAME = ".sregistry-tmp";
const FOREIGN_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, "_") || "host";
}

/** A fresh temporary name in `dir` for a build that ends as `<something><suffix>`. */
export function buildTempPath(dir: string, suffix: string): string {
  return join(dir, `${PREFIX}${hostTag()}-${process.pid}-${randomBytes(6).toString("hex")}${suffix}`);
}

/** The one directory where SIFs bound for `storageDir` are built. */
export function buildDirectory(storageDir: string): string {
  return join(storageDir, BUILD_DIR_NAME);
}

/** Removes leftovers of killed pulls in `dir`; best effort, never throws. */
export async function removeStaleBuilds(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (!isOurs(name)) continue;
    const mtimeMs = (await stat(path).catch(() => undefined))?.mtimeMs;
    if (!isStale(name, mtimeMs)) continue;
    await removeTree(path).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}

/**
 * The same, synchronously, for the start of any command: one `readdir` of a usually missing or
 * empty directory. Trees with read-only directories (sandboxes) are left to `removeStaleBuilds`.
 */
export function removeStaleBuildsSync(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isOurs(name)) continue;
    const path = join(dir, name);
    try {
      if (!isStale(name, statSync(path).mtimeMs)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // gone meanwhile, or not ours to remove: the next run tries again
    }
  }
  return removed;
}

/** `..sregistry-build-…`: a tool's own temporary file next to our build (tar2sqfs output). */
function isOurs(name: string): boolean {
  return name.startsWith(PREFIX) || name.startsWith(`.${PREFIX}`);
}

function isStale(name: string, mtimeMs: number | undefined): boolean {
  const rest = name.slice(name.indexOf(PREFIX) + PREFIX.length);
  const host = hostTag();
  if (rest.startsWith(`${host}-`)) {
    const pid = Number(/^(\d+)-/.exec(rest.slice(host.length + 1))?.[1]);
    return Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid);
  }
  return mtimeMs !== undefined && Date.now() - mtimeMs > FOREIGN_MAX_AGE_MS;
}

/** `rm -rf` that also works on trees with read-only directories (a sandbox of 0500 dirs, as non-root). */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EACCES") throw err;
  }
  await makeWritable(path);
  await rm(path, { recursive: true, force: true });
}

async function makeWritable(dir: string): Promise<void> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await chmod(dir, 0o700);
  for (const name of await readdir(dir)) await makeWritable(join(dir, name));
}
