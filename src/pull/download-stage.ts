/**
 * The download stage: tells the listener what will be fetched (and what is cached), clears dead
 * builds, checks the disk space for the layers and the output, then downloads every missing layer
 * into the cache (verified, resumable, N at a time). Returns the cached layers and the build folder.
 *
 * @example
 * ```ts
 * const { stored, outDir } = await downloadStage(job, resolved, store);
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
import { removeStaleBuilds } from "./temp-files.js";
import { type Job, outputDir, explainFullDisk } from "./job.js";

export async function downloadStage(
  job: Job,
  resolved: ResolvedImage,
  store: BlobStore,
): Promise<{ stored: StoredLayer[]; outDir: string }> {
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
  const stored = resolved.layers.map((l) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    path: store.path(l.digest),
  }));
  return { stored, outDir };
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
