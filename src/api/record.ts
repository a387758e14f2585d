/**
 * `record`: fetch an image's manifests and config (no layers) and create or update a "remote"
 * catalog row: no image file, url = the manifest URL, empty version (or the digest when the user
 * named one), metrics = the manifests and config.
 *
 * A name already pulled from the same manifest keeps its local row and gets no remote row: the
 * file supersedes a record (as a pull of a recorded name deletes the record), and a second row
 * that `get` and `inspect` never answer with would only show up in `images`. The local row is
 * reported (`[container][exists]`) and left unchanged. A record of a manifest no local row was
 * built from (the tag has moved since the pull) is added as usual.
 *
 * @example
 * ```ts
 * const result = await record(ctx, "nvidia://caffe2:17.10");
 * result.created; // true the first time, false on update
 * result.uri;     // "nvidia/caffe2:17.10"
 * ```
 */
import { parseMetrics, type Catalog, type ContainerQuery, type ContainerRow } from "../catalog/catalog.js";
import { catalogNames, manifestMetrics, manifestUrl } from "../catalog/image-metrics.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import type { ResolvedImage } from "../registry/client.js";
import type { Platform } from "../oci/types.js";
import { connectRemote } from "../pull/remote.js";
import type { Context } from "./context.js";

export interface RecordResult {
  row: ContainerRow;
  created: boolean;
  /** True when a local row built from the same manifest already holds the name (`row`, unchanged). */
  exists: boolean;
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
  return catalog.transaction(async () => {
    const local = await pulledFrom(catalog, names, resolved.manifest.digest);
    if (local) {
      const uri = formatCatalogUri({ ...names, version: local.version ?? "" });
      ctx.logger.info(`[container][exists] ${uri}`);
      return { row: local, created: false, exists: true, uri, image: resolved };
    }
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
    return { row, created, exists: false, uri, image: resolved };
  });
}

/** The newest row with a local file of that name built from `manifestDigest` (metrics `digest`). */
async function pulledFrom(
  catalog: Catalog,
  names: Omit<ContainerQuery, "version">,
  manifestDigest: string,
): Promise<ContainerRow | undefined> {
  const rows = await catalog.localContainers(names);
  return rows.find((row) => {
    const metrics = parseMetrics(row.metrics);
    return (
      typeof metrics === "object" &&
      metrics !== null &&
      (metrics as { digest?: unknown }).digest === manifestDigest
    );
  });
}
