/**
 * What the catalog stores about a registry image, as the original wrote it: the row's names, the
 * manifest URL of its `url` column, and the `metrics` JSON (parsed names plus every document
 * fetched). Used by `record` (a remote row) and by `pull` (a local row).
 *
 * @example
 * ```ts
 * const names = catalogNames(remote.reference); // { collection: "nvidia", name: "caffe2", tag: "17.10" }
 * const url = manifestUrl(remote, "17.10");     // "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10"
 * const metrics = manifestMetrics(remote, resolved, "");
 * ```
 */
import { catalogUriFromReference, formatCatalogUri } from "../reference/catalog-uri.js";
import type { ImageReference } from "../reference/image-reference.js";
import type { ResolvedImage } from "../registry/client.js";

/** The registry side of a row: the parsed reference and `http(s)://<registry>/<apiVersion>`. */
export interface RemoteSource {
  reference: ImageReference;
  baseUrl: string;
}

/** Collection, name and tag of the catalog row for a reference. */
export function catalogNames(ref: ImageReference): { collection: string; name: string; tag: string } {
  const { collection, name, tag } = catalogUriFromReference(ref, "");
  return { collection, name, tag };
}

/** The manifest URL the original stores in the `url` column (its "selfLink"). */
export function manifestUrl(remote: RemoteSource, tagOrDigest: string): string {
  return `${remote.baseUrl}/${remote.reference.repository}/manifests/${tagOrDigest}`;
}

/**
 * What goes into `metrics`: the original's parsed-name fields plus every document fetched, keyed
 * like the original's docs show ("1" schema 1, "2" schema 2/OCI manifest, "config"), with the
 * index, the manifest digest and the chosen platform added.
 */
export function manifestMetrics(
  remote: RemoteSource,
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
