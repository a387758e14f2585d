/**
 * The build stage, then the store stage: the cached layers flattened into a SIF (or an enroot
 * squashfs, or a sandbox directory) in the build folder, then placed and recorded (store-stage.ts).
 * A failure leaves nothing in the build folder.
 *
 * The build runs while the layers download (download-stage.ts): the flattener reads each layer
 * once its `ready()` resolved, in image order, so the result is the same whatever order the
 * downloads end in. `downloaded` (the download's end) is awaited before the store stage; a failed
 * download aborts the build through the job's signal and its error is the one reported.
 *
 * @example
 * ```ts
 * return buildStage(job, resolved, download.stored, download.outDir, download.finished);
 * ```
 */
import { chmod, chown, mkdir, rename, rmdir, utimes } from "node:fs/promises";
import { resolve } from "node:path";
import { singularityOverlay } from "../image/singularity/overlay.js";
import type { RootAttributes } from "../image/flatten/types.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import { formatReference } from "../reference/image-reference.js";
import type { ResolvedImage } from "../registry/client.js";
import { isErrnoCode } from "../util/errors.js";
import { VERSION } from "../version.js";
import { catalogNames } from "../catalog/image-metrics.js";
import { assembleSif, imageCreated } from "./assemble.js";
import { assembleEnrootSquashfs } from "./assemble-enroot.js";
import { flattenInto, type StoredLayer } from "../image/flatten-stream.js";
import { extractTar } from "../image/sandbox.js";
import { buildTempPath, removeTree } from "./temp-files.js";
import { type PullResult, type Job, explainFullDisk, outputSuffix } from "./job.js";
import { checkSandboxTarget } from "./targets.js";
import { storeResult } from "./store-stage.js";

export async function buildStage(
  job: Job,
  resolved: ResolvedImage,
  stored: StoredLayer[],
  outDir: string,
  downloaded: Promise<void> = Promise.resolve(),
): Promise<PullResult> {
  const { options, emit, timer } = job;
  const signal = options.signal;
  if (options.sandbox !== undefined) {
    return explainFullDisk(outDir, "the sandbox", job.outputBytes, () =>
      buildSandbox(job, resolved, stored, outDir, downloaded),
    );
  }
  const tmpPath = buildTempPath(outDir, outputSuffix(options));
  try {
    await explainFullDisk(outDir, "the image being built", job.outputBytes, () =>
      (options.format === "squashfs" ? assembleEnrootSquashfs : assembleSif)({
        layers: stored,
        config: resolved.config,
        reference: formatReference(job.remote.reference),
        manifestDigest: resolved.manifest.digest,
        platform: resolved.platform,
        preferCmd: job.ctx.settings.dockerCmd,
        compression: job.compression,
        builder: job.builder,
        out: tmpPath,
        logger: job.ctx.logger,
        buildKey: job.key,
        allowForeign: options.allowForeignLayers ?? false,
        inflateLimit: job.ctx.settings.inflateLimit,
        onBytes: (bytes) => emit({ type: "build-progress", bytes }),
        ...(signal ? { signal } : {}),
      }),
    );
    await downloaded;
    timer.end("build");
    emit({ type: "stage", stage: "store", recorded: job.useCatalog });
    const result = await storeResult(job, resolved, tmpPath);
    timer.end("store");
    emit({ type: "done", path: result.path, uri: result.uri, seconds: timer.seconds });
    return { ...result, reused: false, seconds: timer.seconds };
  } finally {
    await removeTree(tmpPath).catch(() => undefined);
  }
}

async function buildSandbox(
  job: Job,
  resolved: ResolvedImage,
  layers: StoredLayer[],
  outDir: string,
  downloaded: Promise<void>,
): Promise<PullResult> {
  const target = resolve(job.options.sandbox!);
  await checkSandboxTarget(target);
  const created = imageCreated(resolved.config);
  const overlay = singularityOverlay({
    config: resolved.config,
    reference: formatReference(job.remote.reference),
    manifestDigest: resolved.manifest.digest,
    preferCmd: job.ctx.settings.dockerCmd,
    created,
    toolVersion: VERSION,
  });
  const tmpDir = buildTempPath(outDir, ".sandbox");
  try {
    await mkdir(tmpDir, { mode: 0o700 });
    const input = {
      layers,
      overlay,
      diffIds: resolved.config.rootfs?.diff_ids,
      inflateLimit: job.ctx.settings.inflateLimit,
      allowForeign: job.options.allowForeignLayers ?? false,
      logger: job.ctx.logger,
      onBytes: (bytes: number) => job.emit({ type: "build-progress", bytes }),
      ...(job.options.signal ? { signal: job.options.signal } : {}),
    };
    const root = await flattenInto(input, async (tar, rootAttributes) => {
      await extractTar(tar, tmpDir, { logger: job.ctx.logger });
      return rootAttributes;
    });
    await applyRootAttributes(tmpDir, root);
    await downloaded;
    job.timer.end("build");
    job.emit({ type: "stage", stage: "store", recorded: false });
    await checkSandboxTarget(target);
    await rmdir(target).catch((err: unknown) => {
      if (!isErrnoCode(err, "ENOENT")) throw err;
    });
    await rename(tmpDir, target);
  } finally {
    await removeTree(tmpDir).catch(() => undefined);
  }
  job.timer.end("store");
  const uri = formatCatalogUri({ ...catalogNames(job.remote.reference), version: "" });
  job.emit({ type: "done", path: target, uri, seconds: job.timer.seconds });
  return { path: target, uri, version: "", reused: false, created: false, seconds: job.timer.seconds };
}

async function applyRootAttributes(dir: string, root: RootAttributes): Promise<void> {
  if (process.getuid?.() === 0) await chown(dir, root.uid, root.gid);
  await chmod(dir, root.mode & 0o7777);
  await utimes(dir, root.mtime, root.mtime);
}
