/**
 * Disk space used under some folders: the allocated blocks (`st_blocks × 512`, so sparse holes
 * do not count) of every file, each inode once (hardlinks), symlinks not followed. Missing
 * folders count 0; files that vanish during the walk are skipped.
 *
 * @example
 * ```ts
 * const bytes = await diskUsage(["/tmp/home/.singularity", "/tmp/scratch"]);
 * ```
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export async function diskUsage(roots: readonly string[]): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path, { bigint: true }).catch(() => null);
    if (info === null) return;
    const key = `${info.dev}:${info.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    total += Number(info.blocks) * 512;
    if (!info.isDirectory()) return;
    const names = await readdir(path).catch(() => [] as string[]);
    for (const name of names) await visit(join(path, name));
  };
  for (const root of roots) await visit(root);
  return total;
}
