/**
 * `oras://`: SIFs shared through an OCI registry, interoperable with Apptainer ≥ 1.3.
 *
 * - `pushOras(ctx, source, "oras://host/repo:tag")` uploads a SIF file, or the file of a catalog
 *   image (`nvidia/pytorch:24.01-py3`), as Apptainer's `push oras://` does (push/).
 * - `pullOras(ctx, "oras://host/repo:tag")` fetches such a SIF (pull/oras.ts), verified, into
 *   storage with a catalog row (client `oras`, version = the SIF's sha256), or to `--name`.
 *   `pull()` hands `oras://` uris here. A re-pull of the same SIF answers from the catalog.
 *
 * Credentials: enroot's credentials file, then Docker's config.json (a registry login). Plain
 * http only with SREGISTRY_ORAS_NOHTTPS=yes (Apptainer's `--nohttps`).
 *
 * @example
 * ```ts
 * await pushOras(ctx, "nvidia/pytorch:24.01-py3", "oras://registry.site.org/ngc/pytorch:24.01-py3");
 * const got = await pullOras(ctx, "oras://registry.site.org/ngc/pytorch:24.01-py3");
 * ```
 */
import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { placeFile, removeEmptyDirs, storagePath } from "../catalog/storage.js";
import { parseBoolean } from "../config/booleans.js";
import { lookupSetting } from "../config/settings.js";
import { downloadSif, resolveSifArtifact } from "../pull/oras.js";
import { buildTempPath, removeTree } from "../pull/temp-files.js";
import { pushSif, type SifPushResult } from "../push/oras.js";
import { formatCatalogUri } from "../reference/catalog-uri.js";
import type { ImageReference } from "../reference/image-reference.js";
import { parseOrasUri } from "../reference/oras.js";
import { RegistryClient } from "../registry/client.js";
import { preflight } from "../util/disk.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { credentialChain } from "../pull/credential-chain.js";
import { findContainer } from "./lookup.js";
import type { PullOptions, PullResult } from "./pull.js";
import { catalogNames } from "../catalog/image-metrics.js";

export interface PushOrasOptions {
  /** The SIF layer's title annotation; default `<name>_<tag>.sif` for a catalog image, else the file name. */
  title?: string;
  /** Bytes per PATCH request (default 16 MiB); smaller files go up in one PUT. */
  chunkSize?: number;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface PushOrasResult extends SifPushResult {
  /** The file that was pushed. */
  file: string;
  /** `oras://host/repo:tag` */
  target: string;
}

export async function pushOras(
  ctx: Context,
  source: string,
  target: string,
  options: PushOrasOptions = {},
): Promise<PushOrasResult> {
  const ref = parseOrasUri(target);
  if (ref.digest !== undefined) {
    throw new SregistryError("push to a tag, not a digest: oras://host/repo:tag", { code: "BAD_REFERENCE" });
  }
  const { file, title } = await sourceFile(ctx, source);
  const client = orasClient(ctx, ref);
  try {
    const chosen = options.title ?? title;
    const pushed = await pushSif(client, ref, file, { ...options, ...(chosen ? { title: chosen } : {}) });
    const shown = `oras://${ref.registry}/${ref.repository}:${ref.tag}`;
    ctx.logger.info(
      `[push] ${shown} ${pushed.manifestDigest}${pushed.uploaded ? "" : " (SIF already there)"}`,
    );
    return { ...pushed, file, target: shown };
  } finally {
    client.close();
  }
}

export async function pullOras(ctx: Context, uri: string, options: PullOptions = {}): Promise<PullResult> {
  if (options.sandbox !== undefined) {
    throw new SregistryError("--sandbox is not available for oras:// (the artifact is a SIF file already)");
  }
  const started = performance.now();
  const ref = parseOrasUri(uri);
  const names = catalogNames(ref);
  const useCatalog = ctx.catalogEnabled && !options.noCache;
  const client = orasClient(ctx, ref);
  try {
    const { manifest, layer } = await resolveSifArtifact(
      client,
      ref,
      options.platform ?? ctx.settings.platform,
      options.signal,
    );
    const version = layer.digest.slice(layer.digest.indexOf(":") + 1);
    const uri = formatCatalogUri({ ...names, version });
    const seconds = () => ({
      resolve: 0,
      download: (performance.now() - started) / 1000,
      build: 0,
      store: 0,
    });
    const existing = useCatalog && !options.force ? await findContainer(ctx.catalog(), uri) : undefined;
    if (existing?.image && existsSync(existing.image)) {
      return {
        path: existing.image,
        uri,
        version,
        reused: true,
        row: existing,
        created: false,
        seconds: seconds(),
      };
    }
    const target = useCatalog
      ? storagePath(ctx.settings.storageDir, { ...names, version })
      : resolve(options.name ?? `${names.name}_${names.tag}.sif`);
    const temp = buildTempPath(dirname(target), ".sif");
    await preflight([{ path: dirname(target), bytes: layer.size, what: "SIF" }]);
    await mkdir(dirname(target), { recursive: true });
    try {
      await downloadSif(client, ref, layer, temp, {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      options.signal?.throwIfAborted();
      await placeFile(temp, target, { copy: false });
    } catch (err) {
      await removeTree(temp).catch(() => undefined);
      if (useCatalog) removeEmptyDirs(dirname(target), ctx.settings.storageDir);
      throw err;
    }
    if (!useCatalog) return { path: target, uri, version, reused: false, created: false, seconds: seconds() };
    const { row, created } = await ctx.catalog().upsertContainer({
      ...names,
      version,
      client: "oras",
      image: target,
      url: client.manifestUrl(ref.repository, ref.digest ?? ref.tag),
      metrics: orasMetrics(ref, manifest.digest, manifest.json, layer.size),
    });
    ctx.logger.info(`[container][${created ? "new" : "update"}] ${uri}`);
    return { path: target, uri, version, reused: false, row, created, seconds: seconds() };
  } finally {
    client.close();
  }
}

/**
 * A SIF file as given, else the file of the catalog image the text names, titled
 * `<name>_<tag>.sif` as `apptainer pull` would name it (storage names carry the version).
 */
async function sourceFile(ctx: Context, source: string): Promise<{ file: string; title?: string }> {
  if (existsSync(source) && statSync(source).isFile()) return { file: resolve(source) };
  const row = ctx.catalogEnabled ? await findContainer(ctx.catalog(), source) : undefined;
  if (!row) {
    throw new SregistryError(`${source} is neither a SIF file nor an image in the catalog`, {
      code: "NOT_FOUND",
    });
  }
  if (!row.image || !existsSync(row.image)) {
    throw new SregistryError(
      `${source} has no image file in the catalog (a record without a pull?); pull it first`,
      {
        code: "NOT_FOUND",
      },
    );
  }
  return { file: row.image, title: `${row.name}_${row.tag}.sif` };
}

function orasClient(ctx: Context, ref: ImageReference): RegistryClient {
  const source = { env: ctx.env, secrets: ctx.secrets(), client: "oras" };
  const insecure = parseBoolean(lookupSetting("SREGISTRY_ORAS_NOHTTPS", source)) === true;
  const keychain = credentialChain(ctx, ref, []);
  return new RegistryClient({
    registry: ref.registry,
    insecure,
    httpsNoVerify: ctx.settings.httpsNoVerify,
    keychain,
    logger: ctx.logger,
  });
}

function orasMetrics(
  ref: ImageReference,
  digest: string,
  manifest: unknown,
  size: number,
): Record<string, unknown> {
  return {
    collection: ref.collection,
    image: ref.name,
    registry: ref.registry,
    tag: ref.tag,
    url: `${ref.registry}/${ref.repository}`,
    type: "oras",
    digest,
    size,
    "2": manifest,
  };
}
