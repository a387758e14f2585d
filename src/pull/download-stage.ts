/**
 * The download stage: tells the listener what will be fetched (and what is cached), clears dead
 * builds, checks the disk space for the layers and the output, then starts the download of every
 * missing layer into the cache (verified, resumable, N at a time, in layer order) and returns at
 * once: the cached layers, each with a `ready()` that resolves when its blob is verified, so the
 * build can run alongside (pipeline.ts). `finished` settles once every download has stopped; at the
 * first failure every `ready()` still pending rejects with it and `failed` is aborted with it.
 * `stop()` cancels what is still running (the build failed). A throw-away store read by the native
 * writer holds at most one layer's worth of bytes (layer-window.ts): each layer also gets a
 * `release()`, and a download starts only once its blob fits beside those not yet released.
 *
 * @example
 * ```ts
 * const download = await downloadStage(job, resolved, store);
 * try {
 *   await build(download.stored); // awaits each layer's ready()
 * } finally {
 *   download.stop();
 *   await download.finished.catch(() => undefined);
 * }
 * ```
 */
import { mkdir } from "node:fs/promises";
import { BlobStore } from "../cache/blob-store.js";
import { formatReference } from "../reference/image-reference.js";
import { formatPlatform } from "../oci/platform.js";
import type { ResolvedImage } from "../registry/client.js";
import { preflight } from "../util/disk.js";
import { downloadLayers, uniqueLayers } from "./download.js";
import { type StoredLayer } from "../image/flatten-stream.js";
import { LayerWindow, windowBytes } from "./layer-window.js";
import { removeStaleBuilds } from "./temp-files.js";
import { type Job, buildOutput, outputDir, explainFullDisk } from "./job.js";

export interface StartedDownload {
  /** The layers in image order, each readable once its `ready()` resolved. */
  stored: StoredLayer[];
  outDir: string;
  /** Settles once no download runs any more; rejects with the first failure. */
  finished: Promise<void>;
  /** Aborted with the first failure, as soon as it happens. */
  failed: AbortSignal;
  /** Cancels the downloads still running (the build gave up). */
  stop(reason?: unknown): void;
}

export async function downloadStage(
  job: Job,
  resolved: ResolvedImage,
  store: BlobStore,
): Promise<StartedDownload> {
  const { options, emit, timer } = job;
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
  const cancel = new AbortController();
  const failed = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
  const ready = new Map<string, Deferred>(layers.map((layer) => [layer.digest, deferred()]));
  const fail = (err: unknown): void => {
    if (failed.signal.aborted) return;
    failed.abort(err);
    for (const waiting of ready.values()) waiting.reject(err);
  };
  const input = {
    store,
    remote: job.remote,
    threads: options.threads ?? job.ctx.settings.threads,
    allowForeign: options.allowForeignLayers ?? false,
    logger: job.ctx.logger,
    httpsNoVerify: job.ctx.settings.httpsNoVerify,
    signal,
  };
  // The second read of a deleted blob (a restart) is the build's own wait: no progress events.
  const window = usesWindow(job, store)
    ? new LayerWindow(resolved.layers, store, (layer) =>
        downloadLayers({ ...input, layers: [layer], threads: 1, emit: () => {} }),
      )
    : undefined;
  const finished = explainFullDisk(store.root, "the layers being downloaded", toDownload, () =>
    downloadLayers({
      ...input,
      layers: resolved.layers,
      emit,
      ...(window ? { admit: (layer, stop) => window.admit(layer.digest, stop) } : {}),
      onLayerReady: (digest) => ready.get(digest)?.resolve(),
      onFailure: fail,
    }),
  ).then(
    () => {
      timer.end("download");
      emit({ type: "stage", stage: "build", output: buildOutput(options) });
    },
    (err: unknown) => {
      // A full disk is reported by explainFullDisk with another error than the one first seen.
      fail(err);
      throw err;
    },
  );
  finished.catch(() => undefined); // awaited by the pipeline; never "unhandled" meanwhile
  const stored = resolved.layers.map((l, position) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    path: store.path(l.digest),
    ready: window
      ? () => ready.get(l.digest)!.promise.then(() => window.ensure(position))
      : () => ready.get(l.digest)!.promise,
    ...(window ? { release: () => window.release(position) } : {}),
  }));
  return { stored, outDir, finished, failed: failed.signal, stop: (reason) => cancel.abort(reason) };
}

/**
 * A throw-away store read by the native writer's single pass keeps only a window of layers
 * (layer-window.ts). An external tool (tar2sqfs, sqfstar) or a sandbox reads every layer a second
 * time after the whole first pass, so there every blob stays until the pull ends.
 */
function usesWindow(job: Job, store: BlobStore): boolean {
  return store.temporary && job.builder === "native" && job.options.sandbox === undefined;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/** A promise settled from outside; its rejection is never "unhandled" (the build may not wait). */
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

async function checkSpace(
  job: Job,
  store: BlobStore,
  outDir: string,
  image: ResolvedImage,
  cached: boolean[],
): Promise<number> {
  const layers = uniqueLayers(image.layers);
  // Without a cache the native writer's pull holds at most the largest layer (layer-window.ts).
  const toDownload = usesWindow(job, store)
    ? windowBytes(image.layers)
    : layers.reduce((sum, l, i) => sum + (cached[i] || l.size < 0 ? 0 : l.size), 0);
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
