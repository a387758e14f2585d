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
import { chmod, chown, mkdir, readdir, rename, rmdir, stat, utimes } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BlobStore } from "../cache/blob-store.js";
import { blobCacheDir } from "../cache/layout.js";
import type { ContainerRow } from "../catalog/catalog.js";
import { placeFile, sha256File, storagePath } from "../catalog/storage.js";
import { checkSquashfsOptions } from "../image/squashfs/builder.js";
import {
  chooseBuilder,
  parseBuilder,
  type BuilderName,
  type ChosenBuilder,
} from "../image/squashfs/choose-builder.js";
import { detectSquashfsTools } from "../image/squashfs/tools.js";
import { compressionKey, parseCompression, type CompressionSpec } from "../image/squashfs/compression.js";
import { acquireLock, type HeldLock } from "../cache/lock.js";
import { singularityOverlay } from "../image/singularity/overlay.js";
import type { RootAttributes } from "../image/flatten/types.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import { formatReference } from "../reference/image-reference.js";
import { formatPlatform } from "../oci/platform.js";
import type { ResolvedImage } from "../registry/client.js";
import type { Platform } from "../oci/types.js";
import type { FetchedManifest } from "../registry/manifest.js";
import { freeBytes, isNoSpace, noSpaceError, preflight } from "../util/disk.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { VERSION } from "../version.js";
import type { Remote, RemoteContext } from "./remote.js";
import type { Catalog } from "../catalog/catalog.js";
import { catalogNames, manifestMetrics, manifestUrl } from "../catalog/image-metrics.js";
import { assembleSif, imageCreated } from "./assemble.js";
import { cachedConfig } from "./cached-config.js";
import { assembleEnrootSquashfs } from "./assemble-enroot.js";
import { checkForeignLayers, downloadLayers, uniqueLayers } from "./download.js";
import type { PullEventListener, PullStage } from "./events.js";
import { flattenInto, type StoredLayer } from "../image/flatten-stream.js";
import { findReusable, pullKey } from "./reuse.js";
import { extractTar } from "../image/sandbox.js";
import { checkOutputFile, checkPathLength, checkWritableDir, placeCopy } from "./output-paths.js";
import { buildDirectory, buildTempPath, removeStaleBuilds, removeTree } from "./temp-files.js";

export interface PullOptions {
  /**
   * Output file (the original's --name). With a catalog the image is stored as usual and this file
   * becomes a hard link to (or a copy of) the stored SIF, also when the pull reused it.
   */
  name?: string;
  /** Write a plain directory here instead of a SIF (no catalog row). */
  sandbox?: string;
  /** Rebuild even when the same manifest was already built. */
  force?: boolean;
  /** No catalog row; the file stays where it was built (the original's --no-cache). */
  noCache?: boolean;
  /**
   * `gzip` (default), `zstd`, `lz4`, optionally with a level: `gzip:9`, `zstd:19`, `lz4:hc`
   * (see image/squashfs/compression.ts); the defaults are gzip 6 and zstd 3.
   */
  compression?: string | CompressionSpec;
  /**
   * Who writes the squashfs: `native` (in process), `tar2sqfs` or `sqfstar`; default
   * SREGISTRY_BUILDER, else image/squashfs/choose-builder.ts's default.
   */
  builder?: BuilderName;
  /** Parallel downloads; default SREGISTRY_PYTHON_THREADS. */
  threads?: number;
  allowForeignLayers?: boolean;
  /**
   * `squashfs`: a plain enroot/Pyxis image (`.sqsh`, see image/enroot/) at `name` or
   * `<name>:<tag>.sqsh`, with no catalog row (the catalog holds SIFs). Default `sif`.
   */
  format?: "sif" | "squashfs";
  /** The platform to pick from an index (`--platform`/`--arch`); default the settings'. */
  platform?: Platform;
  /** Plain http for this pull (`--insecure`), as if SREGISTRY_<CLIENT>_NOHTTPS were set. */
  insecure?: boolean;
  onEvent?: PullEventListener;
  signal?: AbortSignal;
}

export interface PullResult {
  /** The SIF (or the sandbox directory). */
  path: string;
  uri: string;
  /** sha256 of the SIF (the digest when pulled by digest); "" for a sandbox. */
  version: string;
  /** True when an existing SIF for the same manifest was reused without building. */
  reused: boolean;
  /** The catalog row, when the catalog is in use. */
  row?: ContainerRow;
  /** With the catalog and `name`: the file made there (a hard link to, or a copy of, `path`). */
  named?: string;
  /** True when the catalog row was inserted (false: an existing row was updated or reused). */
  created: boolean;
  seconds: Record<PullStage, number>;
}

/** What the pipeline needs from the command context (api/context.ts `Context` is one). */
export interface PipelineContext extends RemoteContext {
  /** True when the catalog and storage are in use. */
  readonly catalogEnabled: boolean;
  catalog(): Catalog;
}

interface Job {
  ctx: PipelineContext;
  remote: Remote;
  options: PullOptions;
  useCatalog: boolean;
  compression: CompressionSpec;
  builder: ChosenBuilder;
  key: string;
  /** Estimated size of the output, for a full-disk message. */
  outputBytes: number;
  emit: PullEventListener;
  timer: ReturnType<typeof stageTimer>;
}

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
  if (options.sandbox === undefined && explicitLevel && builder !== "native")
    checkSquashfsOptions({ ...squashfsOptions(compression), tool: builder });
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

/** The answer from the catalog when an earlier pull built this image with the same options. */
async function reuseExisting(job: Job): Promise<PullResult | undefined> {
  const names = catalogNames(job.remote.reference);
  const existing = await findReusable(job.ctx.catalog(), names, job.key);
  if (!existing?.image) return undefined;
  job.timer.end("resolve");
  const uri = existing.uri ?? formatCatalogUri({ ...names, version: existing.version ?? "" });
  const named = await placeNamed(job, existing.image);
  job.emit({ type: "reused", path: existing.image, uri });
  return {
    path: existing.image,
    uri,
    version: existing.version ?? "",
    reused: true,
    row: existing,
    created: false,
    seconds: job.timer.seconds,
    ...(named ? { named } : {}),
  };
}

/**
 * Takes the lock of this build key, waiting while another process builds the same image; returns
 * undefined when that build finished meanwhile (unless `--force`, which waits for the lock).
 */
async function lockBuild(job: Job): Promise<HeldLock | undefined> {
  const dir = buildDirectory(job.ctx.settings.storageDir);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `build-${job.key}.lock`);
  let told = false;
  const names = catalogNames(job.remote.reference);
  return acquireLock(path, {
    ...withSignal(job.options.signal),
    isDone: async () => {
      if (!told) job.ctx.logger.info("another sregistry process is pulling this image: waiting for it");
      told = true;
      return !job.options.force && (await findReusable(job.ctx.catalog(), names, job.key)) !== undefined;
    },
  });
}

/** `top` is the tag's document fetched at the start; undefined for a digest reference. */
async function resolveAndBuild(job: Job, top: FetchedManifest | undefined): Promise<PullResult> {
  const { ctx, remote, options, timer } = job;
  const ref = remote.reference;
  const signal = options.signal;
  const wanted = ref.digest ?? ref.tag;
  const store = ctx.settings.disableCache
    ? await BlobStore.temporary(ctx.settings.tmpDir)
    : new BlobStore(blobCacheDir(ctx.settings), { verifyDigest: ctx.settings.verifyCache });
  try {
    const fetched = top ?? (await remote.registry.fetchManifest(ref.repository, wanted, withSignal(signal)));
    const resolved = await remote.registry.imageFrom(
      ref.repository,
      wanted,
      fetched,
      options.platform ?? ctx.settings.platform,
      { ...withSignal(signal), readConfig: cachedConfig(store, signal) },
    );
    checkForeignLayers(resolved.layers, options.allowForeignLayers ?? false);
    timer.end("resolve");
    // Held from before the download to the end of the build: `cache clean` leaves these blobs alone.
    const hold = await store.hold(resolved.layers.map((layer) => layer.digest));
    try {
      return await fetchAndBuild(job, resolved, store);
    } finally {
      hold.release();
    }
  } finally {
    await store.dispose();
  }
}

async function fetchAndBuild(job: Job, resolved: ResolvedImage, store: BlobStore): Promise<PullResult> {
  const { options, emit, timer } = job;
  const signal = options.signal;
  const layers = uniqueLayers(resolved.layers);
  const cached = await Promise.all(layers.map((layer) => store.has(layer.digest)));
  emit({
    type: "resolved",
    reference: formatReference(job.remote.reference),
    digest: resolved.manifest.digest,
    platform: formatPlatform(resolved.platform),
    layers: layers.map((layer, i) => ({ digest: layer.digest, size: layer.size, cached: cached[i]! })),
  });
  const outDir = outputDir(job);
  await mkdir(outDir, { recursive: true });
  await removeStaleBuilds(outDir);
  // Builds before the build directory existed left theirs in the storage root.
  if (job.useCatalog) await removeStaleBuilds(job.ctx.settings.storageDir);
  const toDownload = await checkSpace(job, store, outDir, resolved, cached);

  emit({ type: "stage", stage: "download" });
  await explainFullDisk(store.root, "the layers being downloaded", toDownload, () =>
    downloadLayers({
      store,
      remote: job.remote,
      layers: resolved.layers,
      threads: options.threads ?? job.ctx.settings.threads,
      allowForeign: options.allowForeignLayers ?? false,
      emit,
      logger: job.ctx.logger,
      httpsNoVerify: job.ctx.settings.httpsNoVerify,
      ...(signal ? { signal } : {}),
    }),
  );
  timer.end("download");

  emit({ type: "stage", stage: "build" });
  const stored = resolved.layers.map((l) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    path: store.path(l.digest),
  }));
  if (options.sandbox !== undefined) {
    return explainFullDisk(outDir, "the sandbox", job.outputBytes, () =>
      buildSandbox(job, resolved, stored, outDir),
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
    timer.end("build");
    emit({ type: "stage", stage: "store" });
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
    job.timer.end("build");
    job.emit({ type: "stage", stage: "store" });
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

/** A sandbox goes into a new or empty directory only: never over anything the user has. */
async function checkSandboxTarget(target: string): Promise<void> {
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

async function applyRootAttributes(dir: string, root: RootAttributes): Promise<void> {
  if (process.getuid?.() === 0) await chown(dir, root.uid, root.gid);
  await chmod(dir, root.mode & 0o7777);
  await utimes(dir, root.mtime, root.mtime);
}

/**
 * Where the output is built: on the filesystem of its final place, so the last step is a rename;
 * for storage, its one build directory.
 */
function outputDir(job: Job): string {
  if (job.options.sandbox !== undefined) return dirname(resolve(job.options.sandbox));
  if (job.useCatalog) return buildDirectory(job.ctx.settings.storageDir);
  return dirname(noCacheTarget(job.remote, job.options));
}

/** The file a pull without the catalog writes: `--name`, or `<name>:<tag>.sif` here. */
function noCacheTarget(remote: Remote, options: PullOptions): string {
  const names = catalogNames(remote.reference);
  return resolve(options.name ?? `${names.name}:${names.tag}${outputSuffix(options)}`);
}

/**
 * Every place the pull will write, checked before any request: writable, a file name where a file
 * goes, names and paths within the filesystem's limits. Errors name the user's path.
 */
async function checkTargets(
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

/** With the catalog, `--name` gets the stored image too; returns the file made. */
async function placeNamed(job: Job, stored: string): Promise<string | undefined> {
  if (!job.useCatalog || job.options.name === undefined) return undefined;
  const target = resolve(job.options.name);
  const size = (await stat(stored)).size;
  await explainFullDisk(dirname(target), `--name ${job.options.name}`, size, () => placeCopy(stored, target));
  job.ctx.logger.debug(`[name] ${target} is a link to or copy of ${stored}`);
  return target;
}

/** Runs `work`; a full disk becomes one error naming the filesystem, the place and the size needed. */
async function explainFullDisk<T>(
  dir: string,
  what: string,
  estimated: number,
  work: () => Promise<T>,
): Promise<T> {
  const freeBefore = await freeBytes(dir).catch(() => undefined);
  try {
    return await work();
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    throw await noSpaceError(dir, what, { estimated, freeBefore }, err);
  }
}

async function checkSpace(
  job: Job,
  store: BlobStore,
  outDir: string,
  image: ResolvedImage,
  cached: boolean[],
): Promise<number> {
  const layers = uniqueLayers(image.layers);
  const toDownload = layers.reduce((sum, l, i) => sum + (cached[i] || l.size < 0 ? 0 : l.size), 0);
  const total = layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
  // A gzip squashfs of the flattened tree is about the size of the compressed layers (allow 25 %
  // more); a sandbox is the uncompressed tree, typically 2-3 times the compressed layers.
  const output = job.options.sandbox !== undefined ? total * 3 : total * 1.25;
  job.outputBytes = Math.ceil(output);
  await preflight([
    { path: store.root, bytes: toDownload, what: "layer cache" },
    // Named by the user's folder (storage), not our build directory inside it: same filesystem.
    {
      path: job.useCatalog ? job.ctx.settings.storageDir : outDir,
      bytes: Math.ceil(output),
      what: job.options.sandbox ? "sandbox" : "image being built",
    },
  ]);
  return toDownload;
}

async function storeResult(
  job: Job,
  resolved: ResolvedImage,
  tmpPath: string,
): Promise<{
  path: string;
  uri: string;
  version: string;
  row?: ContainerRow;
  created: boolean;
  named?: string;
}> {
  const { ctx, remote } = job;
  const ref = remote.reference;
  const names = catalogNames(ref);
  const version = ref.digest ?? (await sha256File(tmpPath));
  // Last point where an interrupt is honoured: from here on the result becomes visible.
  job.options.signal?.throwIfAborted();
  const uri = formatCatalogUri({ ...names, version });
  if (!job.useCatalog) {
    const target = noCacheTarget(remote, job.options);
    await explainFullDisk(dirname(target), target, (await stat(tmpPath)).size, () =>
      placeFile(tmpPath, target, { copy: false }),
    );
    return { path: target, uri, version, created: false };
  }
  const target = storagePath(ctx.settings.storageDir, { ...names, version });
  const size = (await stat(tmpPath)).size;
  await placeFile(tmpPath, target, { copy: false });
  const metrics = { ...manifestMetrics(remote, resolved, version), build: job.key, size };
  const { row, created } = await ctx.catalog().upsertContainer({
    ...names,
    version,
    client: remote.clientName,
    image: target,
    url: manifestUrl(remote, ref.digest ?? ref.tag),
    metrics,
  });
  ctx.logger.info(`[container][${created ? "new" : "update"}] ${uri}`);
  const named = await placeNamed(job, target);
  return { path: target, uri, version, row, created, ...(named ? { named } : {}) };
}

function keyFor(
  ctx: PipelineContext,
  remote: Remote,
  platform: Platform | undefined,
  compression: CompressionSpec,
  builder: ChosenBuilder,
  topDigest: string,
): string {
  return pullKey({
    topDigest,
    platform: platform ?? ctx.settings.platform,
    reference: formatReference(remote.reference),
    compression: compressionKey(compression),
    preferCmd: ctx.settings.dockerCmd,
    ...(builder === "native" ? { builder } : {}),
  });
}

function outputSuffix(options: PullOptions): string {
  return options.format === "squashfs" ? ".sqsh" : ".sif";
}

function squashfsOptions(spec: CompressionSpec) {
  return {
    compression: spec.algorithm,
    ...(spec.level !== undefined ? { compressionLevel: spec.level } : {}),
    ...(spec.hc ? { lz4hc: true } : {}),
  };
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function stageTimer() {
  const seconds: Record<PullStage, number> = { resolve: 0, download: 0, build: 0, store: 0 };
  let last = performance.now();
  return {
    seconds,
    end(stage: PullStage) {
      const now = performance.now();
      seconds[stage] = (now - last) / 1000;
      last = now;
    },
  };
}
