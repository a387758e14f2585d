/**
 * `pull`: registry image → verified blobs in the cache → SIF in storage → catalog row.
 *
 * Stages: resolve (the tag's digest first: a re-pull of an unchanged image with the same options
 * is answered from the catalog right there, with no blob request), disk preflight, download
 * (parallel, verified, resumable, shared cache), build (flatten → squashfs → SIF, no rootfs on
 * disk; or a sandbox directory), store (sha256 of the SIF = version, atomic rename, catalog row).
 *
 * Nothing is visible before it is complete: the SIF is built under a hidden temporary name next to
 * its final place (removed on failure or abort, and by the next pull if the process was killed),
 * blobs appear in the cache only once verified, the catalog row is written last. `signal` aborts
 * at any point before the store stage; the store stage itself is short and runs to the end.
 *
 * Sandboxes (`sandbox: dir`) get no catalog row: they are not files the catalog can hash, move or
 * remove, and the original never recorded one either.
 *
 * @example
 * ```ts
 * const result = await pull(ctx, "nvidia://tensorflow:17.11", { onEvent: console.log });
 * result.path; // ~/.singularity/shub/nvidia/tensorflow/17.11@<sha256>.sif
 * ```
 */
import { chmod, chown, mkdir, readdir, rename, rmdir, stat, utimes } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { BlobStore } from "../cache/blob-store.js";
import { blobCacheDir } from "./cache.js";
import type { ContainerRow } from "../catalog/catalog.js";
import { placeFile, sha256File, storagePath } from "../catalog/storage.js";
import type { Compression } from "../build/squashfs/args.js";
import { singularityOverlay } from "../build/singularity/overlay.js";
import type { RootAttributes } from "../build/flatten/types.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import { formatReference } from "../reference/image-reference.js";
import type { ResolvedImage } from "../registry/client.js";
import { preflight } from "../util/disk.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { VERSION } from "../version.js";
import { connectRemote, manifestUrl, type Remote } from "./backend.js";
import type { Context } from "./context.js";
import { catalogNames, manifestMetrics } from "./record.js";
import { assembleSif, imageCreated } from "../pull/assemble.js";
import { cachedConfig } from "../pull/cached-config.js";
import { checkForeignLayers, downloadLayers, uniqueLayers } from "../pull/download.js";
import type { PullEventListener, PullStage } from "../pull/events.js";
import { flattenInto } from "../pull/flatten-stream.js";
import { findReusable, pullKey } from "../pull/reuse.js";
import { extractTar } from "../pull/sandbox.js";
import { buildTempPath, removeStaleBuilds, removeTree } from "../pull/temp-files.js";

export interface PullOptions {
  /** Output file (the original's --name); with a catalog the image still moves into storage. */
  name?: string;
  /** Write a plain directory here instead of a SIF (no catalog row). */
  sandbox?: string;
  /** Rebuild even when the same manifest was already built. */
  force?: boolean;
  /** No catalog row; the file stays where it was built (the original's --no-cache). */
  noCache?: boolean;
  compression?: Compression;
  /** Parallel downloads; default SREGISTRY_PYTHON_THREADS. */
  threads?: number;
  allowForeignLayers?: boolean;
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
  /** True when the catalog row was inserted (false: an existing row was updated or reused). */
  created: boolean;
  seconds: Record<PullStage, number>;
}

interface Job {
  ctx: Context;
  remote: Remote;
  options: PullOptions;
  useCatalog: boolean;
  compression: Compression;
  key: string;
  emit: PullEventListener;
  timer: ReturnType<typeof stageTimer>;
}

export async function pull(ctx: Context, image: string, options: PullOptions = {}): Promise<PullResult> {
  const remote = connectRemote(ctx, image);
  try {
    return await pullWith(ctx, remote, options);
  } finally {
    remote.registry.close();
  }
}

async function pullWith(ctx: Context, remote: Remote, options: PullOptions): Promise<PullResult> {
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;
  const timer = stageTimer();
  const ref = remote.reference;
  const compression = options.compression ?? "gzip";
  const useCatalog = ctx.catalogEnabled && !options.noCache && options.sandbox === undefined;

  emit({ type: "stage", stage: "resolve" });
  const topDigest =
    ref.digest ?? (await remote.registry.fetchManifest(ref.repository, ref.tag, withSignal(signal))).digest;
  const job: Job = {
    ctx,
    remote,
    options,
    useCatalog,
    compression,
    emit,
    timer,
    key: keyFor(ctx, remote, compression, topDigest),
  };
  if (useCatalog && !options.force) {
    const existing = findReusable(ctx.catalog(), catalogNames(ref), job.key);
    if (existing?.image) {
      timer.end("resolve");
      const uri = existing.uri ?? formatCatalogUri({ ...catalogNames(ref), version: existing.version ?? "" });
      emit({ type: "reused", path: existing.image, uri });
      return {
        path: existing.image,
        uri,
        version: existing.version ?? "",
        reused: true,
        row: existing,
        created: false,
        seconds: timer.seconds,
      };
    }
  }
  const store = ctx.settings.disableCache
    ? await BlobStore.temporary(ctx.settings.tmpDir)
    : new BlobStore(blobCacheDir(ctx.settings), { verifyDigest: ctx.settings.verifyCache });
  try {
    const resolved = await remote.registry.resolveImage(
      ref.repository,
      ref.digest ?? ref.tag,
      ctx.settings.platform,
      {
        ...withSignal(signal),
        readConfig: cachedConfig(store, signal),
      },
    );
    checkForeignLayers(resolved.layers, options.allowForeignLayers ?? false);
    // The tag may have moved since its digest was read: key the build on what was really resolved.
    const resolvedTop = resolved.index?.digest ?? resolved.manifest.digest;
    if (resolvedTop !== topDigest) job.key = keyFor(ctx, remote, compression, resolvedTop);
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
    platform: platformText(resolved),
    layers: layers.map((layer, i) => ({ digest: layer.digest, size: layer.size, cached: cached[i]! })),
  });
  const outDir = outputDir(job);
  await mkdir(outDir, { recursive: true });
  await removeStaleBuilds(outDir);
  await checkSpace(job, store, outDir, resolved, cached);

  emit({ type: "stage", stage: "download" });
  await downloadLayers({
    store,
    remote: job.remote,
    layers: resolved.layers,
    threads: options.threads ?? job.ctx.settings.threads,
    allowForeign: options.allowForeignLayers ?? false,
    emit,
    logger: job.ctx.logger,
    httpsNoVerify: job.ctx.settings.httpsNoVerify,
    ...(signal ? { signal } : {}),
  });
  timer.end("download");

  emit({ type: "stage", stage: "build" });
  const stored = resolved.layers.map((l) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    path: store.path(l.digest),
  }));
  if (options.sandbox !== undefined) return buildSandbox(job, resolved, stored, outDir);
  const tmpPath = buildTempPath(outDir, ".sif");
  try {
    await assembleSif({
      layers: stored,
      config: resolved.config,
      reference: formatReference(job.remote.reference),
      manifestDigest: resolved.manifest.digest,
      platform: resolved.platform,
      preferCmd: job.ctx.settings.dockerCmd,
      compression: job.compression,
      out: tmpPath,
      logger: job.ctx.logger,
      buildKey: job.key,
      allowForeign: options.allowForeignLayers ?? false,
      onBytes: (bytes) => emit({ type: "build-progress", bytes }),
      ...(signal ? { signal } : {}),
    });
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
  layers: { digest: string; mediaType: string; path: string }[],
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

/** Where the output is built: next to its final place, so the last step is a rename. */
function outputDir(job: Job): string {
  if (job.options.sandbox !== undefined) return dirname(resolve(job.options.sandbox));
  if (job.useCatalog) return job.ctx.settings.storageDir;
  return job.options.name ? dirname(resolve(job.options.name)) : process.cwd();
}

async function checkSpace(
  job: Job,
  store: BlobStore,
  outDir: string,
  image: ResolvedImage,
  cached: boolean[],
): Promise<void> {
  const layers = uniqueLayers(image.layers);
  const toDownload = layers.reduce((sum, l, i) => sum + (cached[i] || l.size < 0 ? 0 : l.size), 0);
  const total = layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
  // A gzip squashfs of the flattened tree is about the size of the compressed layers (allow 25 %
  // more); a sandbox is the uncompressed tree, typically 2-3 times the compressed layers.
  const output = job.options.sandbox !== undefined ? total * 3 : total * 1.25;
  await preflight([
    { path: store.root, bytes: toDownload, what: "layer cache" },
    { path: outDir, bytes: Math.ceil(output), what: job.options.sandbox ? "sandbox" : "image being built" },
  ]);
}

async function storeResult(
  job: Job,
  resolved: ResolvedImage,
  tmpPath: string,
): Promise<{ path: string; uri: string; version: string; row?: ContainerRow; created: boolean }> {
  const { ctx, remote } = job;
  const ref = remote.reference;
  const names = catalogNames(ref);
  const version = ref.digest ?? (await sha256File(tmpPath));
  // Last point where an interrupt is honoured: from here on the result becomes visible.
  job.options.signal?.throwIfAborted();
  const uri = formatCatalogUri({ ...names, version });
  if (!job.useCatalog) {
    const target = resolve(job.options.name ?? `${names.name}:${names.tag}.sif`);
    await placeFile(tmpPath, target, { copy: false });
    return { path: target, uri, version, created: false };
  }
  const target = storagePath(ctx.settings.storageDir, { ...names, version });
  const size = (await stat(tmpPath)).size;
  await placeFile(tmpPath, target, { copy: false });
  const metrics = { ...manifestMetrics(remote, resolved, version), build: job.key, size };
  const { row, created } = ctx.catalog().upsertContainer({
    ...names,
    version,
    client: remote.clientName,
    image: target,
    url: manifestUrl(remote, ref.digest ?? ref.tag),
    metrics,
  });
  ctx.logger.info(`[container][${created ? "new" : "update"}] ${uri}`);
  return { path: target, uri, version, row, created };
}

function keyFor(ctx: Context, remote: Remote, compression: Compression, topDigest: string): string {
  return pullKey({
    topDigest,
    platform: ctx.settings.platform,
    reference: formatReference(remote.reference),
    compression,
    preferCmd: ctx.settings.dockerCmd,
  });
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function platformText(image: ResolvedImage): string {
  const p = image.platform;
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
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
