/**
 * The resolve stage: the build key of this pull, the answer from the catalog when an earlier pull
 * built the same image with the same options, the per-key build lock, and the image (platform,
 * config, layers) resolved from the top manifest already fetched.
 *
 * @example
 * ```ts
 * const resolved = await resolveImage(job, top, store);
 * resolved.layers; // the layers to download, foreign ones checked
 * ```
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { BlobStore } from "../cache/blob-store.js";
import { type ChosenBuilder } from "../image/squashfs/choose-builder.js";
import { compressionKey, type CompressionSpec } from "../image/squashfs/compression.js";
import { acquireLock, type HeldLock } from "../cache/lock.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import { formatReference } from "../reference/image-reference.js";
import type { ResolvedImage } from "../registry/client.js";
import type { Platform } from "../oci/types.js";
import type { FetchedManifest } from "../registry/manifest.js";
import type { Remote } from "./remote.js";
import { catalogNames } from "../catalog/image-metrics.js";
import { cachedConfig } from "./cached-config.js";
import { checkForeignLayers } from "./download.js";
import { findReusable, pullKey } from "./reuse.js";
import { buildDirectory } from "./temp-files.js";
import { type PullResult, type PipelineContext, type Job, withSignal } from "./job.js";
import { placeNamed } from "./store-stage.js";

/** The build key (reuse.ts `pullKey`): the top digest and every option that changes the file. */
export function keyFor(
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

/** The answer from the catalog when an earlier pull built this image with the same options. */
export async function reuseExisting(job: Job): Promise<PullResult | undefined> {
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
export async function lockBuild(job: Job): Promise<HeldLock | undefined> {
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

/**
 * Resolves the image from `top` (the tag's document fetched at the start; undefined for a digest
 * reference, fetched here), reading its config through the blob cache.
 */
export async function resolveImage(
  job: Job,
  top: FetchedManifest | undefined,
  store: BlobStore,
): Promise<ResolvedImage> {
  const { ctx, remote, options, timer } = job;
  const ref = remote.reference;
  const signal = options.signal;
  const wanted = ref.digest ?? ref.tag;
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
  return resolved;
}
