/**
 * The store stage: the built file's version (its sha256, or the digest pulled by), then either
 * the file placed where a pull without the catalog writes it, or the file renamed into storage and
 * its catalog row written in one transaction; `--name` gets a link to or copy of the stored file.
 *
 * @example
 * ```ts
 * const { path, uri, row } = await storeResult(job, resolved, tmpPath);
 * ```
 */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ContainerRow } from "../catalog/catalog.js";
import { placeFile, sha256File, storagePath } from "../catalog/storage.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import type { ResolvedImage } from "../registry/client.js";
import { catalogNames, manifestMetrics, manifestUrl } from "../catalog/image-metrics.js";
import { placeCopy } from "./output-paths.js";
import { type Job, noCacheTarget, explainFullDisk } from "./job.js";

/** Places the built file at `tmpPath` (and records it); the last point where an abort counts. */
export async function storeResult(
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

/** With the catalog, `--name` gets the stored image too; returns the file made. */
export async function placeNamed(job: Job, stored: string): Promise<string | undefined> {
  if (!job.useCatalog || job.options.name === undefined) return undefined;
  const target = resolve(job.options.name);
  const size = (await stat(stored)).size;
  await explainFullDisk(dirname(target), `--name ${job.options.name}`, size, () => placeCopy(stored, target));
  job.ctx.logger.debug(`[name] ${target} is a link to or copy of ${stored}`);
  return target;
}
