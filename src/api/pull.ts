/**
 * `pull`: registry image → verified blobs in the cache → SIF in storage → catalog row.
 *
 * Stages: resolve (manifests, platform), reuse check (same manifest digest and build options as a
 * stored SIF → answer at once), disk preflight, download (parallel, verified, resumable), build
 * (flatten → squashfs → SIF, no rootfs on disk), store (sha256 of the SIF = version, atomic rename,
 * catalog row). Nothing is visible before it is complete.
 *
 * @example
 * ```ts
 * const result = await pull(ctx, "nvidia://tensorflow:17.11", { onEvent: console.log });
 * result.path; // ~/.singularity/shub/nvidia/tensorflow/17.11@<sha256>.sif
 * ```
 */
import { existsSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { BlobStore } from "../cache/blob-store.js";
import type { ContainerRow } from "../catalog/catalog.js";
import { placeFile, sha256File, storagePath } from "../catalog/storage.js";
import type { Compression } from "../build/squashfs/builder.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import { formatReference } from "../reference/image-reference.js";
import type { ResolvedImage } from "../registry/client.js";
import { preflight } from "../util/disk.js";
import { SregistryError } from "../util/errors.js";
import { connectRemote, manifestUrl, type Remote } from "./backend.js";
import type { Context } from "./context.js";
import { catalogNames, manifestMetrics } from "./record.js";
import { assembleSif, buildKey } from "../pull/assemble.js";
import { downloadLayers, uniqueLayers } from "../pull/download.js";
import type { PullEventListener, PullStage } from "../pull/events.js";

export interface PullOptions {
  /** Output file (the original's --name); with a catalog the image still moves into storage. */
  name?: string;
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
  path: string;
  uri: string;
  version: string;
  /** True when an existing SIF for the same manifest was reused without building. */
  reused: boolean;
  row?: ContainerRow;
  seconds: Record<PullStage, number>;
}

export async function pull(ctx: Context, image: string, options: PullOptions = {}): Promise<PullResult> {
  const emit = options.onEvent ?? (() => {});
  const timer = stageTimer();
  const useCatalog = ctx.catalogEnabled && !options.noCache;
  const remote = connectRemote(ctx, image);
  const ref = remote.reference;

  emit({ type: "stage", stage: "resolve" });
  const resolved = await remote.registry.resolveImage(ref.repository, ref.digest ?? ref.tag, ctx.settings.platform);
  const compression = options.compression ?? "gzip";
  const key = buildKey({
    manifestDigest: resolved.manifest.digest,
    platform: resolved.platform,
    preferCmd: ctx.settings.dockerCmd,
    compression,
  });
  timer.end("resolve");

  if (useCatalog && !options.force) {
    const existing = findBuilt(ctx, remote, key);
    if (existing?.image) {
      const uri = existing.uri ?? formatCatalogUri({ ...catalogNames(ref), version: existing.version ?? "" });
      emit({ type: "reused", path: existing.image, uri });
      return { path: existing.image, uri, version: existing.version ?? "", reused: true, row: existing, seconds: timer.seconds };
    }
  }

  const store = ctx.settings.disableCache
    ? await BlobStore.temporary(ctx.settings.tmpDir)
    : new BlobStore(join(ctx.settings.cacheDir, "sregistry", "blobs"));
  try {
    const layers = uniqueLayers(resolved.layers);
    const cached = await Promise.all(layers.map((layer) => store.has(layer.digest)));
    emit({
      type: "resolved",
      reference: formatReference(ref),
      digest: resolved.manifest.digest,
      platform: platformText(resolved),
      layers: layers.map((layer, i) => ({ digest: layer.digest, size: layer.size, cached: cached[i]! })),
    });
    const outDir = outputDir(ctx, options, useCatalog);
    await mkdir(outDir, { recursive: true });
    await checkSpace(store, outDir, resolved, cached);

    emit({ type: "stage", stage: "download" });
    await downloadLayers({
      store,
      remote,
      layers: resolved.layers,
      threads: options.threads ?? ctx.settings.threads,
      allowForeign: options.allowForeignLayers ?? false,
      emit,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    timer.end("download");

    emit({ type: "stage", stage: "build" });
    const tmpPath = join(outDir, `.sregistry-build-${randomBytes(6).toString("hex")}.sif.tmp`);
    try {
      await assembleSif({
        layers: resolved.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, path: store.path(l.digest) })),
        config: resolved.config,
        reference: formatReference(ref),
        manifestDigest: resolved.manifest.digest,
        platform: resolved.platform,
        preferCmd: ctx.settings.dockerCmd,
        compression,
        out: tmpPath,
        logger: ctx.logger,
        allowForeign: options.allowForeignLayers ?? false,
        onBytes: (bytes) => emit({ type: "build-progress", bytes }),
      });
      timer.end("build");
      emit({ type: "stage", stage: "store" });
      const result = await storeResult(ctx, remote, resolved, tmpPath, options, useCatalog, key);
      timer.end("store");
      emit({ type: "done", path: result.path, uri: result.uri, seconds: timer.seconds });
      return { ...result, reused: false, seconds: timer.seconds };
    } finally {
      await rm(tmpPath, { force: true });
    }
  } finally {
    if (ctx.settings.disableCache) await store.dispose();
  }
}

/** A stored SIF built from the same manifest with the same options, if its file still exists. */
function findBuilt(ctx: Context, remote: Remote, key: string): ContainerRow | undefined {
  const names = catalogNames(remote.reference);
  return ctx
    .catalog()
    .listContainers(names.name)
    .find((row) => {
      if (row.collection !== names.collection || row.name !== names.name || row.tag !== names.tag) return false;
      if (!row.image || !existsSync(row.image)) return false;
      try {
        return (JSON.parse(row.metrics) as { build?: string }).build === key;
      } catch {
        return false;
      }
    });
}

/** Where the SIF is built: next to its final place, so the last step is a rename. */
function outputDir(ctx: Context, options: PullOptions, useCatalog: boolean): string {
  if (useCatalog) return ctx.settings.storageDir;
  return options.name ? dirname(resolve(options.name)) : process.cwd();
}

async function checkSpace(
  store: BlobStore,
  outDir: string,
  image: ResolvedImage,
  cached: boolean[],
): Promise<void> {
  const layers = uniqueLayers(image.layers);
  const toDownload = layers.reduce((sum, l, i) => sum + (cached[i] || l.size < 0 ? 0 : l.size), 0);
  const total = layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
  // A gzip squashfs of the flattened tree is about the size of the compressed layers; allow 25 % more.
  await preflight([
    { path: store.root, bytes: toDownload, what: "layer cache" },
    { path: outDir, bytes: Math.ceil(total * 1.25), what: "image being built" },
  ]);
}

async function storeResult(
  ctx: Context,
  remote: Remote,
  resolved: ResolvedImage,
  tmpPath: string,
  options: PullOptions,
  useCatalog: boolean,
  key: string,
): Promise<{ path: string; uri: string; version: string; row?: ContainerRow }> {
  const ref = remote.reference;
  const names = catalogNames(ref);
  const version = ref.digest ?? (await sha256File(tmpPath));
  const uri = formatCatalogUri({ ...names, version });
  if (!useCatalog) {
    const target = resolve(options.name ?? `${names.name}:${names.tag}.sif`);
    await placeFile(tmpPath, target, { copy: false });
    return { path: target, uri };
  }
  const target = storagePath(ctx.settings.storageDir, { ...names, version });
  await placeFile(tmpPath, target, { copy: false });
  const metrics = { ...manifestMetrics(remote, resolved, version), build: key, size: (await stat(target)).size };
  const { row, created } = ctx.catalog().upsertContainer({
    ...names,
    version,
    client: remote.clientName,
    image: target,
    url: manifestUrl(remote, ref.digest ?? ref.tag),
    metrics,
  });
  ctx.logger.info(`[container][${created ? "new" : "update"}] ${uri}`);
  return { path: target, uri, version, row };
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

