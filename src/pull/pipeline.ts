/**
 * The pull pipeline: registry image → verified blobs in the cache → SIF in storage → catalog row.
 *
 * Stages: resolve (the tag's digest first: a re-pull of an unchanged image with the same options
 * is answered from the catalog right there, with no blob request), disk preflight, download
 * (parallel, verified, resumable, shared cache), build (flatten → squashfs → SIF, no rootfs on
 * disk; or a sandbox directory), store (sha256 of the SIF = version, atomic rename, catalog row).
 *
 * Before any request: the compression value and the tools, every place the pull will write (writable,
 * not a directory where a file goes, names within NAME_MAX/PATH_MAX), so a bad target fails at once.
 *
 * Nothing is visible before it is complete: the SIF is built in the storage's build directory
 * `<storage>/.sregistry-tmp/` (removed on failure or abort; what a killed pull left there is removed
 * by the next command), blobs appear in the cache only once verified, the catalog row is written
 * last. `signal` aborts at any point before the store stage; the store stage itself is short.
 *
 * One build per image at a time: a pull holds a lock per build key (`<build dir>/build-<key>.lock`,
 * across processes) from the resolve to the catalog row; a second pull of the same image waits for
 * it and then answers from the row the first wrote (with `--force` it builds again, after it).
 * With the catalog, `--name <file>` also gets the stored SIF there (a hard link, or a copy).
 *
 * Sandboxes (`sandbox: dir`) get no catalog row: they are not files the catalog can hash, move or
 * remove, and the original never recorded one either.
 *
 * @example
 * ```ts
 * const remote = connectRemote(ctx, "nvidia://tensorflow:17.11");
 * try {
 *   const result = await pullWith(ctx, remote, { onEvent: console.log });
 *   result.path; // ~/.singularity/shub/nvidia/tensorflow/17.11@<sha256>.sif
 * } finally {
 *   remote.registry.close();
 * }
 * ```
 */
import { BlobStore } from "../cache/blob-store.js";
import { blobCacheDir } from "../cache/layout.js";
import { chooseBuilder, parseBuilder } from "../image/squashfs/choose-builder.js";
import { detectSquashfsTools } from "../image/squashfs/tools.js";
import { parseCompression } from "../image/squashfs/compression.js";
import type { ResolvedImage } from "../registry/client.js";
import type { FetchedManifest } from "../registry/manifest.js";
import type { Remote } from "./remote.js";
import {
  type PullOptions,
  type PullResult,
  type PipelineContext,
  type Job,
  withSignal,
  stageTimer,
} from "./job.js";
import { checkTargets } from "./targets.js";
import { keyFor, reuseExisting, lockBuild, resolveImage } from "./resolve-stage.js";

export type { PipelineContext, PullOptions, PullResult } from "./job.js";

/**
 * Runs the whole pull of `remote`'s image (the caller connects, and closes the registry client).
 * The context is the command context (api/context.ts `Context`): settings, logger, the catalog.
 */
export async function pullWith(
  ctx: PipelineContext,
  remote: Remote,
  options: PullOptions,
): Promise<PullResult> {
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;
  const timer = stageTimer();
  const ref = remote.reference;
  const compression =
    typeof options.compression === "object"
      ? options.compression
      : parseCompression(options.compression ?? "gzip");
  const useCatalog =
    ctx.catalogEnabled && !options.noCache && options.sandbox === undefined && options.format !== "squashfs";
  const builder =
    options.sandbox === undefined
      ? chooseBuilder(options.builder ?? parseBuilder(ctx.env.SREGISTRY_BUILDER), compression, () =>
          detectSquashfsTools(),
        )
      : "native";
  // An explicit level needs a tool that takes one: say so now, not after the download. (Only
  // then: probing the tools costs three process starts, too much for a re-pull answered at once.)
  const explicitLevel = compression.level !== undefined || compression.hc === true;
  if (options.sandbox === undefined && explicitLevel && builder !== "native") {
    const [{ checkSquashfsOptions }, { toolCompression }] = await Promise.all([
      import("../image/squashfs/builder.js"),
      import("./assemble.js"),
    ]);
    checkSquashfsOptions({ ...toolCompression(compression), tool: builder });
  }
  await checkTargets(ctx, remote, options, useCatalog);

  emit({ type: "stage", stage: "resolve" });
  // The top document (index or manifest) is fetched once: its digest keys the build, and the image
  // is resolved from it. A digest reference needs no request before the catalog is asked.
  const top =
    ref.digest === undefined
      ? await remote.registry.fetchManifest(ref.repository, ref.tag, withSignal(signal))
      : undefined;
  const topDigest = ref.digest ?? top!.digest;
  const job: Job = {
    ctx,
    remote,
    options,
    useCatalog,
    compression,
    builder,
    emit,
    timer,
    key: keyFor(ctx, remote, options.platform, compression, builder, topDigest),
    outputBytes: 0,
  };
  if (!useCatalog) return resolveAndBuild(job, top);
  const early = options.force ? undefined : await reuseExisting(job);
  if (early) return early;
  const lock = await lockBuild(job);
  try {
    // The pull we waited for (or one that ended just before we looked) may have built it.
    const late = options.force ? undefined : await reuseExisting(job);
    return late ?? (await resolveAndBuild(job, top));
  } finally {
    await lock?.release();
  }
}

/** Resolve, then download and build while the layers are held against `cache clean`. */
async function resolveAndBuild(job: Job, top: FetchedManifest | undefined): Promise<PullResult> {
  const { ctx } = job;
  const store = ctx.settings.disableCache
    ? await BlobStore.temporary(ctx.settings.tmpDir)
    : new BlobStore(blobCacheDir(ctx.settings), { verifyDigest: ctx.settings.verifyCache });
  try {
    const resolved = await resolveImage(job, top, store);
    const { downloadStage, buildStage } = await loadBuildStages();
    // Held from before the download to the end of the build: `cache clean` leaves these blobs alone.
    const hold = await store.hold(resolved.layers.map((layer) => layer.digest));
    try {
      return await downloadAndBuild(job, resolved, store, downloadStage, buildStage);
    } finally {
      hold.release();
    }
  } finally {
    await store.dispose();
  }
}

/**
 * The download and the build run together: the build reads layer 0 as soon as it is downloaded
 * and verified while the next ones download (in layer order, so the one it needs next comes
 * first). A failed download aborts the build (its signal) and is the error reported; a failed
 * build cancels the downloads. Either way this returns only once no download runs any more (the
 * blobs are held, a temporary cache is removed after).
 */
async function downloadAndBuild(
  job: Job,
  resolved: ResolvedImage,
  store: BlobStore,
  downloadStage: typeof import("./download-stage.js").downloadStage,
  buildStage: typeof import("./build-stage.js").buildStage,
): Promise<PullResult> {
  const download = await downloadStage(job, resolved, store);
  const userSignal = job.options.signal;
  const signal = userSignal ? AbortSignal.any([userSignal, download.failed]) : download.failed;
  const building: Job = { ...job, options: { ...job.options, signal } };
  try {
    return await buildStage(building, resolved, download.stored, download.outDir, download.finished);
  } catch (err) {
    download.stop(err);
    // The download's own failure (a full disk made readable by explainFullDisk, say) is the cause.
    await download.finished;
    throw err;
  } finally {
    download.stop();
    await download.finished.catch(() => undefined);
  }
}

/**
 * The download and build stages (the image writers, compression, the squashfs tools: about 80
 * modules), loaded only when a pull builds: a re-pull answered from the catalog starts as fast as
 * `get` plus one manifest request (ARCHITECTURE.md, "Start-up").
 */
async function loadBuildStages(): Promise<{
  downloadStage: typeof import("./download-stage.js").downloadStage;
  buildStage: typeof import("./build-stage.js").buildStage;
}> {
  const [download, build] = await Promise.all([import("./download-stage.js"), import("./build-stage.js")]);
  return { downloadStage: download.downloadStage, buildStage: build.buildStage };
}
