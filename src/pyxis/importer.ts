/**
 * Pyxis importer plugin (Pyxis ≥ 0.24, importers/README.md in github.com/NVIDIA/pyxis):
 * `importer get IMAGE_URI` prints the absolute path of a squashfs on stdout (logs on stderr);
 * `importer release` frees what that job step got, and may be called twice.
 *
 * Cache: one `.sqsh` per image digest and platform in `SREGISTRY_PYXIS_CACHE` (default
 * `<SINGULARITY_CACHEDIR>/sregistry/pyxis`); on a shared filesystem it serves the whole cluster.
 * One build per digest: the builder holds `<key>.lock` (cache/lock.ts, the pull's build lock), the
 * other steps wait for it and then find the file. A squashfs appears under its final name only when
 * complete (built under a temporary name, then renamed).
 *
 * Per step: `$PYXIS_RUNTIME_PATH/$SLURM_JOB_UID/sregistry-$SLURM_JOB_ID.$SLURM_STEP_ID.sqsh`, a hard
 * link to the cached file (a symlink across filesystems). That is what Pyxis gets, and the only
 * thing `release` removes: the cache stays for the next job, and other steps' links are untouched.
 *
 * @example
 * ```ts
 * const path = await importerGet(ctx, "docker://nvcr.io#nvidia/pytorch:24.01-py3", pyxisStep(process.env));
 * await importerRelease(pyxisStep(process.env));
 * ```
 */
import { createHash } from "node:crypto";
import { chmod, link, mkdir, rename, stat, symlink, unlink } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { connectRemote } from "../pull/remote.js";
import type { Context } from "../api/context.js";
import { pull } from "../api/pull.js";
import { acquireLock } from "../cache/lock.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { unlinkQuietly } from "../util/filesystem.js";

/** The job step as Pyxis describes it through the environment. */
export interface PyxisStep {
  runtimePath: string;
  jobUid: string;
  jobId: string;
  stepId: string;
}

/** Reads and checks PYXIS_RUNTIME_PATH, SLURM_JOB_UID, SLURM_JOB_ID and SLURM_STEP_ID. */
export function pyxisStep(env: NodeJS.ProcessEnv): PyxisStep {
  const need = (name: string, pattern: RegExp): string => {
    const value = env[name];
    if (value === undefined || value === "") {
      throw new SregistryError(
        `${name} is not set: run this as Pyxis' importer (importer=… in plugstack.conf)`,
      );
    }
    if (!pattern.test(value)) throw new SregistryError(`${name} has an unexpected value`);
    return value;
  };
  const runtimePath = need("PYXIS_RUNTIME_PATH", /^\/[^\0]*$/);
  if (!isAbsolute(runtimePath)) throw new SregistryError("PYXIS_RUNTIME_PATH must be an absolute path");
  return {
    runtimePath,
    jobUid: need("SLURM_JOB_UID", /^\d+$/),
    jobId: need("SLURM_JOB_ID", /^[0-9_]+$/),
    // Slurm uses names for some steps (batch, extern, interactive) as well as numbers.
    stepId: need("SLURM_STEP_ID", /^[A-Za-z0-9_]+$/),
  };
}

/** The per-step file handed to Pyxis. */
export function stepPath(step: PyxisStep): string {
  return join(step.runtimePath, step.jobUid, `sregistry-${step.jobId}.${step.stepId}.sqsh`);
}

/** The shared cache directory. */
export function pyxisCacheDir(ctx: Context): string {
  return ctx.env.SREGISTRY_PYXIS_CACHE || join(ctx.settings.cacheDir, "sregistry", "pyxis");
}

/** `get`: the squashfs of `uri` (built once per digest), linked for this step; returns its path. */
export async function importerGet(ctx: Context, uri: string, step: PyxisStep): Promise<string> {
  const cache = pyxisCacheDir(ctx);
  await mkdir(cache, { recursive: true });
  const digest = await topDigest(ctx, uri);
  const platform = ctx.settings.platform;
  const key = createHash("sha256")
    .update([digest, platform.os, platform.architecture, platform.variant ?? ""].join("\n"))
    .digest("hex");
  const cached = join(cache, `${key}.sqsh`);
  // Built by digest: a tag that moves meanwhile cannot put another image under this key.
  const pinned = /@sha256:[0-9a-f]{64}$/.test(uri) ? uri : `${uri}@${digest}`;
  if (!(await exists(cached))) await buildOnce(ctx, pinned, cache, key, cached);
  await checkCachedFile(cached);
  const target = stepPath(step);
  await mkdir(join(step.runtimePath, step.jobUid), { recursive: true, mode: 0o700 });
  await unlinkQuietly(target);
  try {
    await link(cached, target);
  } catch (err) {
    if (!isErrnoCode(err, "EXDEV") && !isErrnoCode(err, "EPERM")) throw err;
    await symlink(cached, target);
  }
  ctx.logger.info(`pyxis: ${uri} (${digest}) → ${target}`);
  return target;
}

/** `release`: removes this step's file if there; true when something was removed. */
export async function importerRelease(step: PyxisStep): Promise<boolean> {
  try {
    await unlink(stepPath(step));
    return true;
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return false;
    throw err;
  }
}

async function buildOnce(
  ctx: Context,
  uri: string,
  cache: string,
  key: string,
  cached: string,
): Promise<void> {
  let told = false;
  const lock = await acquireLock(join(cache, `${key}.lock`), {
    isDone: async () => {
      if (!told) ctx.logger.info("pyxis: another job step is building this image: waiting for it");
      told = true;
      return exists(cached);
    },
  });
  if (!lock) return; // built by the step we waited for
  try {
    if (await exists(cached)) return;
    const tmp = join(cache, `.${key}.${process.pid}.sqsh`);
    ctx.logger.info(`pyxis: building the squashfs of ${uri} into ${cache}`);
    try {
      await pull(ctx, uri, { format: "squashfs", name: tmp, noCache: true });
      // Readable by the other users of a shared cache; writable by nobody but its builder.
      await chmod(tmp, 0o644);
      await rename(tmp, cached);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  } finally {
    await lock.release();
  }
}

async function topDigest(ctx: Context, uri: string): Promise<string> {
  const remote = connectRemote(ctx, uri);
  try {
    const ref = remote.reference;
    return ref.digest ?? (await remote.registry.fetchManifest(ref.repository, ref.tag)).digest;
  } finally {
    remote.registry.close();
  }
}

/**
 * A cached image that others can rewrite is not run: whoever may write it decides what every job
 * using it executes. (Who may add files to the cache directory is the administrator's choice.)
 */
async function checkCachedFile(path: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile() || (info.mode & 0o022) !== 0) {
    throw new SregistryError(
      `${path} is not a regular file only its owner can write; remove it, and check who can write to the cache`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
