/**
 * `record`: fetch an image's manifests and config (no layers) and create or update a "remote"
 * catalog row: no image file, url = the manifest URL, empty version (or the digest when the user
 * named one), metrics = the manifests and config.
 *
 * @example
 * ```ts
 * const result = await record(ctx, "nvidia://caffe2:17.10");
 * result.created; // true the first time, false on update
 * result.uri;     // "nvidia/caffe2:17.10"
 * ```
 */
import type { ContainerRow } from "../catalog/catalog.js";
import { catalogNames, manifestMetrics, manifestUrl } from "../catalog/image-metrics.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import type { ResolvedImage } from "../registry/client.js";
import type { Platform } from "../oci/types.js";
import { connectRemote } from "../pull/remote.js";
import type { Context } from "./context.js";

export interface RecordResult {
  row: ContainerRow;
  created: boolean;
  uri: string;
  image: ResolvedImage;
}

export interface RecordOptions {
  /** Plain http (`--insecure`), as if SREGISTRY_<CLIENT>_NOHTTPS were set. */
  insecure?: boolean;
  /** The platform to pick from an index (`--platform`/`--arch`); default the settings'. */
  platform?: Platform;
}

export async function record(
  ctx: Context,
  image: string,
  options: RecordOptions = {},
): Promise<RecordResult> {
  const catalog = ctx.catalog();
  const remote = connectRemote(ctx, image, { insecure: options.insecure ?? false });
  const ref = remote.reference;
  const wanted = ref.digest ?? ref.tag;
  const resolved = await remote.registry.resolveImage(
    ref.repository,
    wanted,
    options.platform ?? ctx.settings.platform,
  );
  const version = ref.digest ?? "";
  const names = catalogNames(ref);
  const { row, created } = await catalog.upsertContainer({
    ...names,
    version,
    client: remote.clientName,
    image: null,
    url: manifestUrl(remote, wanted),
    metrics: manifestMetrics(remote, resolved, version),
  });
  const uri = formatCatalogUri({ ...names, version });
  ctx.logger.info(`[container][${created ? "new" : "update"}] ${uri}`);
  return { row, created, uri, image: resolved };
}
