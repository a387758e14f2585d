/**
 * A SIF as an OCI artifact, the way Apptainer ≥ 1.3 pushes and pulls `oras://` images
 * (internal/pkg/client/oras in apptainer/apptainer): an OCI image manifest whose config is the
 * empty JSON `{}` with media type `application/vnd.sylabs.sif.config.v1+json` (inlined as
 * `data`), one layer `application/vnd.sylabs.sif.layer.v1.sif` that is the SIF file itself,
 * annotated with `org.opencontainers.image.title` = the file name, and the manifest annotation
 * `org.opencontainers.image.created`.
 *
 * The manifest bytes are exactly what go-containerregistry's `json.Marshal(v1.Manifest)` writes
 * for Apptainer: compact, fields in struct order (schemaVersion, mediaType, config, layers,
 * annotations; descriptors as mediaType, size, digest, data, annotations), map keys sorted, and
 * Go's escaping of `<`, `>`, `&` (build/singularity/go-json.ts). So a SIF pushed by sregistry and
 * by Apptainer gets the same manifest digest.
 *
 * The creation time is Apptainer's: the `org.opencontainers.image.created` label in the SIF's
 * `inspect-metadata.json` (written by our build and by Apptainer's), re-written in UTC; a SIF
 * without it gets the SIF header's creation time (Apptainer would take "now"; ours stays
 * reproducible).
 *
 * @example
 * ```ts
 * const bytes = sifArtifactManifest({ digest, size, title: "pytorch_24.01.sif", created: "2024-01-02T03:04:05Z" });
 * ```
 */
import { readSif, readSifObject } from "../image/sif/reader.js";
import { DataType } from "../image/sif/layout.js";
import { goJson } from "../image/singularity/go-json.js";
import { MediaType } from "../oci/types.js";
import { SregistryError } from "../util/errors.js";

export const SIF_CONFIG_MEDIA_TYPE = "application/vnd.sylabs.sif.config.v1+json";
export const SIF_LAYER_MEDIA_TYPE = "application/vnd.sylabs.sif.layer.v1.sif";
/** Singularity < 3.7's layer type, misspelling included (hpcng/singularity#4437); still pulled. */
export const SIF_LAYER_MEDIA_TYPE_LEGACY = "appliciation/vnd.sylabs.sif.layer.tar";
/** Layer media types a pull accepts: Apptainer checks the layer type only, not the config's. */
export const SIF_LAYER_MEDIA_TYPES: readonly string[] = [SIF_LAYER_MEDIA_TYPE, SIF_LAYER_MEDIA_TYPE_LEGACY];

/** The config blob: the OCI empty value. */
export const SIF_CONFIG = Buffer.from("{}");
export const SIF_CONFIG_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

export const TITLE_ANNOTATION = "org.opencontainers.image.title";
export const CREATED_ANNOTATION = "org.opencontainers.image.created";

export interface SifArtifact {
  /** sha256 of the SIF file. */
  digest: string;
  size: number;
  /** The file name (no directory). */
  title: string;
  /** RFC 3339 UTC, seconds precision; omitted from the manifest when undefined. */
  created?: string;
}

/** The manifest bytes for a SIF (see the module doc for the exact shape). */
export function sifArtifactManifest(sif: SifArtifact): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {
      mediaType: SIF_CONFIG_MEDIA_TYPE,
      size: SIF_CONFIG.length,
      digest: SIF_CONFIG_DIGEST,
      data: SIF_CONFIG.toString("base64"),
    },
    layers: [
      {
        mediaType: SIF_LAYER_MEDIA_TYPE,
        size: sif.size,
        digest: sif.digest,
        annotations: new Map([[TITLE_ANNOTATION, sif.title]]),
      },
    ],
    ...(sif.created !== undefined ? { annotations: new Map([[CREATED_ANNOTATION, sif.created]]) } : {}),
  };
  return Buffer.from(goJson(manifest));
}

/** The creation time Apptainer would annotate (see the module doc); an error if `path` is no SIF. */
export async function sifCreated(path: string): Promise<string> {
  const sif = await readSif(path);
  const metadata = sif.descriptors.find(
    (d) => d.dataType === DataType.GenericJSON && d.name === "inspect-metadata.json",
  );
  if (metadata && metadata.size <= 16 * 1024 * 1024) {
    const label = createdLabel(await readSifObject(path, metadata));
    if (label !== undefined) return label;
  }
  return rfc3339Seconds(new Date(sif.header.created * 1000));
}

function createdLabel(bytes: Buffer): string | undefined {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as {
      data?: { attributes?: { labels?: Record<string, unknown> } };
    };
    const value = doc.data?.attributes?.labels?.[CREATED_ANNOTATION];
    if (typeof value !== "string") return undefined;
    const time = new Date(value);
    return Number.isNaN(time.getTime()) ? undefined : rfc3339Seconds(time);
  } catch {
    return undefined;
  }
}

/** `2024-01-02T03:04:05Z`, as Go's time.RFC3339 formats a UTC time. */
function rfc3339Seconds(time: Date): string {
  if (Number.isNaN(time.getTime())) throw new SregistryError("SIF has an invalid creation time");
  return time.toISOString().replace(/\.\d{3}Z$/, "Z");
}
