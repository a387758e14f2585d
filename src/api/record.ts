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
import { catalogUriFromReference, formatCatalogUri } from "../reference/catalog-uri.js";
import type { ImageReference } from "../reference/image-reference.js";
import type { ResolvedImage } from "../registry/client.js";
import type { Platform } from "../registry/types.js";
import { connectRemote, manifestUrl, type Remote } from "./backend.js";
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
  const { row, created } = catalog.upsertContainer({
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

/** Collection, name and tag of the catalog row for a reference. */
export function catalogNames(ref: ImageReference): { collection: string; name: string; tag: string } {
  const { collection, name, tag } = catalogUriFromReference(ref, "");
  return { collection, name, tag };
}

/**
 * What goes into `metrics`: the original's parsed-name fields plus every document fetched, keyed
 * like the original's docs show ("1" schema 1, "2" schema 2/OCI manifest, "config"), with the
 * index, the manifest digest and the chosen platform added.
 */
export function manifestMetrics(
  remote: Remote,
  image: ResolvedImage,
  version: string,
): Record<string, unknown> {
  const ref = remote.reference;
  const wanted = ref.digest ?? ref.tag;
  const selfLink = manifestUrl(remote, wanted);
  const metrics: Record<string, unknown> = {
    collection: ref.collection,
    image: ref.name,
    registry: ref.registry,
    tag: ref.tag,
    version,
    uri: formatCatalogUri({ ...catalogNames(ref), version }),
    url: `${ref.registry}/${ref.repository}`,
    type: "container",
    selfLink: `${remote.baseUrl}/${ref.repository}/manifests`,
    digest: image.manifest.digest,
    platform: image.platform,
    schema: image.schema,
  };
  const manifestKey = image.schema === "docker-v1" ? "1" : "2";
  metrics[manifestKey] = { ...(image.manifest.json as object), selfLink };
  if (image.index) metrics.index = { ...(image.index.json as object), selfLink, digest: image.index.digest };
  metrics.config = image.config;
  // Labels under `labels`, where the catalog's label search looks first.
  metrics.labels = image.config.config?.Labels ?? {};
  return metrics;
}
