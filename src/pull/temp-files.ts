/**
 * Names of the files and directories a pull builds before renaming them into place, and the
 * clean-up of those a killed pull left behind.
 *
 * A build happens next to its final place (so the last step is an atomic rename) under a hidden
 * name that says who made it: `.sregistry-build-<host>-<pid>-<random><suffix>`. A later pull removes
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
import { chmod, lstat, readdir, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

const PREFIX = ".sregistry-build-";
const FOREIGN_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, "_") || "host";
}

/** A fresh temporary name in `dir` for a build that ends as `<something><suffix>`. */
export function buildTempPath(dir: string, suffix: string): string {
  return join(dir, `${PREFIX}${hostTag()}-${process.pid}-${randomBytes(6).toString("hex")}${suffix}`);
}

/** Removes leftovers of killed pulls in `dir`; best effort, never throws. */
export async function removeStaleBuilds(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    // `..sregistry-build-…`: a tool's own temporary file next to our build (tar2sqfs output).
    if (!name.startsWith(PREFIX) && !name.startsWith(`.${PREFIX}`)) continue;
    const path = join(dir, name);
    if (!(await isStale(name, path))) continue;
    await removeTree(path).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}

async function isStale(name: string, path: string): Promise<boolean> {
  const rest = name.slice(name.indexOf(PREFIX) + PREFIX.length);
  const host = hostTag();
  if (rest.startsWith(`${host}-`)) {
    const pid = Number(/^(\d+)-/.exec(rest.slice(host.length + 1))?.[1]);
    return Number.isInteger(pid) && pid > 0 && !isRunning(pid);
  }
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > FOREIGN_MAX_AGE_MS;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
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
