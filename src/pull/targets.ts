/**
 * Every place a pull will write, checked before any request (writable, a file name where a file
 * goes, names and paths within the filesystem's limits), so a bad target fails at once and the
 * error names the user's path.
 *
 * @example
 * ```ts
 * await checkTargets(ctx, remote, { sandbox: "./ubuntu" }, false); // throws EXISTS if not empty
 * ```
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { storagePath } from "../catalog/storage.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import type { Remote } from "./remote.js";
import { catalogNames } from "../catalog/image-metrics.js";
import { checkOutputFile, checkPathLength, checkWritableDir } from "./output-paths.js";
import { type PullOptions, type PipelineContext, outputSuffix } from "./job.js";

/**
 * Every place the pull will write, checked before any request: writable, a file name where a file
 * goes, names and paths within the filesystem's limits. Errors name the user's path.
 */
export async function checkTargets(
  ctx: PipelineContext,
  remote: Remote,
  options: PullOptions,
  useCatalog: boolean,
): Promise<void> {
  const settings = ctx.settings;
  const cache = settings.disableCache ? settings.tmpDir : join(settings.cacheDir, "sregistry", "blobs");
  await checkWritableDir(cache, "the layer cache");
  if (options.sandbox !== undefined) {
    const target = resolve(options.sandbox);
    checkPathLength(target, `--sandbox ${options.sandbox}`);
    await checkSandboxTarget(target);
    await checkWritableDir(dirname(target), `--sandbox ${options.sandbox}`);
    return;
  }
  if (!useCatalog) {
    const names = catalogNames(remote.reference);
    const given = options.name ?? `${names.name}:${names.tag}${outputSuffix(options)}`; // as written
    await checkOutputFile(given, options.name === undefined ? "the output file" : "--name");
    return;
  }
  await checkWritableDir(settings.storageDir, "the image storage (SREGISTRY_STORAGE)");
  const names = catalogNames(remote.reference);
  const version = remote.reference.digest ?? "0".repeat(64); // a sha256 is what a pull stores
  checkPathLength(storagePath(settings.storageDir, { ...names, version }), "the image's storage path");
  if (options.name !== undefined) await checkOutputFile(options.name, "--name");
}

/** A sandbox goes into a new or empty directory only: never over anything the user has. */
export async function checkSandboxTarget(target: string): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw new SregistryError(`--sandbox ${target} exists and is not a directory`);
    entries = await readdir(target);
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return;
    throw err;
  }
  if (entries.length > 0) {
    throw new SregistryError(`--sandbox ${target} is not empty; give a new or empty directory`, {
      code: "EXISTS",
    });
  }
}
