/**
 * Fetching a SIF stored as an OCI artifact (`pull oras://`), accepting what every Apptainer and
 * Singularity version pushed: like Apptainer's `DownloadImage`, the manifest must hold exactly
 * one layer whose media type is `application/vnd.sylabs.sif.layer.v1.sif` or the pre-3.7
 * `appliciation/vnd.sylabs.sif.layer.tar` (sic); the config's media type is not checked, since
 * older versions set it inconsistently. An index is resolved for the wanted platform first.
 *
 * The layer is streamed into `tempPath` with its digest and size verified as it arrives (and
 * resumed with Range after a broken body), then checked to really be a SIF; anything else is one
 * `NOT_AN_IMAGE` error and the temporary file is the caller's to remove.
 *
 * @example
 * ```ts
 * const got = await fetchSifArtifact(client, ref, settings.platform, "/storage/.tmp-x.sif");
 * got.layer.digest; // "sha256:…" — the SIF's sha256
 * ```
 */
import { readSif } from "../image/sif/reader.js";
import { downloadTo } from "../cache/download.js";
import { SIF_LAYER_MEDIA_TYPES } from "../push/sif-artifact.js";
import type { ImageReference } from "../reference/image-reference.js";
import type { RegistryClient } from "../registry/client.js";
import type { FetchedManifest } from "../registry/manifest.js";
import { selectPlatform } from "../registry/platform.js";
import type { Descriptor, ImageIndex, ImageManifest, Platform } from "../oci/types.js";
import { SregistryError } from "../util/errors.js";

export interface SifArtifactResult {
  manifest: FetchedManifest;
  layer: Descriptor;
}

export interface FetchSifOptions {
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** The artifact's manifest and its one SIF layer, checked (no blob fetched yet). */
export async function resolveSifArtifact(
  client: RegistryClient,
  ref: ImageReference,
  platform: Platform,
  signal?: AbortSignal,
): Promise<SifArtifactResult> {
  const shown = `oras://${ref.registry}/${ref.repository}:${ref.tag}`;
  const target = ref.digest ?? ref.tag;
  let manifest = await client.fetchManifest(ref.repository, target, signal ? { signal } : {});
  if (manifest.kind === "index") {
    const entry = selectPlatform(manifest.json as ImageIndex, platform, shown);
    manifest = await client.fetchManifest(ref.repository, entry.digest, signal ? { signal } : {});
  }
  if (manifest.kind !== "manifest") throw notSif(shown, "it is not an OCI image manifest");
  const layers = (manifest.json as ImageManifest).layers;
  if (layers.length !== 1) throw notSif(shown, `it has ${layers.length} layers, a SIF artifact has one`);
  const layer = layers[0]!;
  if (!SIF_LAYER_MEDIA_TYPES.includes(layer.mediaType)) {
    throw notSif(shown, `its layer is ${printable(layer.mediaType)}`);
  }
  return { manifest, layer };
}

/** Downloads the verified SIF layer into `tempPath` (created here) and checks it is a SIF. */
export async function downloadSif(
  client: RegistryClient,
  ref: ImageReference,
  layer: Descriptor,
  tempPath: string,
  options: FetchSifOptions = {},
): Promise<void> {
  const { signal } = options;
  await downloadTo(
    tempPath,
    { digest: layer.digest, size: layer.size },
    async (offset) => {
      const res = await client.openBlob(ref.repository, layer.digest, {
        offset,
        ...(signal ? { signal } : {}),
      });
      return { body: res.body, offset: res.status === 206 ? offset : 0 };
    },
    {
      source: `${ref.registry}/${ref.repository}`,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(signal ? { signal } : {}),
    },
  );
  await readSif(tempPath).catch(() => {
    throw notSif(`oras://${ref.registry}/${ref.repository}:${ref.tag}`, "its layer is not a SIF file");
  });
}

function notSif(shown: string, why: string): SregistryError {
  return new SregistryError(
    `${shown} is not a SIF artifact (${why}); pull container images with docker:// instead`,
    { code: "NOT_AN_IMAGE" },
  );
}

/** A media type from the network, safe to print: no control characters, bounded length. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return JSON.stringify(clean.length > 100 ? clean.slice(0, 100) + "..." : clean);
}
