/**
 * Docker schema 1 manifests: the digest of a signed one, and conversion into an image config
 * plus a layer list so the rest of the pipeline only ever sees schema 2 shapes.
 *
 * - Digest: a signed (`prettyjws`) manifest is addressed by the digest of its payload *without*
 *   the signatures: `bytes[0:formatLength] + base64url(formatTail)` from the JWS protected header.
 * - Config: the top (first) `history[].v1Compatibility` holds the image's `config`,
 *   `architecture`, `os` and `created`.
 * - Layers: `fsLayers` is top-first, so it is reversed; entries whose v1Compatibility says
 *   `throwaway: true` are empty layers and skipped. Limitations: sizes are unknown (`size: -1`),
 *   there are no `rootfs.diff_ids` (layer content cannot be checked against the config, only the
 *   blob digest), and the media type is assumed to be gzip.
 *
 * @example
 * ```ts
 * const { config, layers } = schema1ToImage(manifest);
 * ```
 */
import type { Digest } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import {
  MediaType,
  type ContainerConfig,
  type Descriptor,
  type ImageConfig,
  type Schema1Manifest,
} from "../oci/types.js";

interface V1Compatibility {
  id?: string;
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ContainerConfig;
  container_config?: { Cmd?: string[] | string };
  throwaway?: boolean;
  comment?: string;
}

/** The bytes a signed schema 1 manifest's digest is computed over; `bytes` itself when unsigned. */
export function schema1Payload(bytes: Buffer, json: { signatures?: unknown }): Buffer {
  if (!Array.isArray(json.signatures) || json.signatures.length === 0) return bytes;
  const first = json.signatures[0] as { protected?: unknown };
  if (typeof first.protected !== "string") throw invalid("signature has no protected header");
  let header: { formatLength?: unknown; formatTail?: unknown };
  try {
    header = JSON.parse(Buffer.from(first.protected, "base64url").toString("utf8")) as typeof header;
  } catch {
    throw invalid("signature protected header is not JSON");
  }
  const { formatLength, formatTail } = header;
  if (
    typeof formatLength !== "number" ||
    !Number.isSafeInteger(formatLength) ||
    formatLength < 0 ||
    formatLength > bytes.length ||
    typeof formatTail !== "string"
  ) {
    throw invalid("signature protected header lacks formatLength/formatTail");
  }
  return Buffer.concat([bytes.subarray(0, formatLength), Buffer.from(formatTail, "base64url")]);
}

export function schema1ToImage(manifest: Schema1Manifest): { config: ImageConfig; layers: Descriptor[] } {
  const entries = manifest.history.map((h, i) => ({
    v1: parseV1(h.v1Compatibility, i),
    blobSum: manifest.fsLayers[i]?.blobSum as Digest,
  }));
  const top = entries[0]?.v1 ?? {};
  const bottomFirst = [...entries].reverse();
  const layers: Descriptor[] = bottomFirst
    .filter((e) => !e.v1.throwaway)
    .map((e) => ({ mediaType: MediaType.DockerLayerGzip, digest: e.blobSum, size: -1 }));
  const config: ImageConfig = {
    architecture: top.architecture ?? manifest.architecture,
    os: top.os ?? "linux",
    config: top.config ?? {},
    history: bottomFirst.map((e) => ({
      created: e.v1.created,
      created_by: commandOf(e.v1),
      ...(e.v1.throwaway ? { empty_layer: true } : {}),
      ...(e.v1.comment ? { comment: e.v1.comment } : {}),
    })),
  };
  if (top.variant) config.variant = top.variant;
  if (top.created) config.created = top.created;
  if (top.author) config.author = top.author;
  return { config, layers };
}

function parseV1(text: string, index: number): V1Compatibility {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as V1Compatibility;
  } catch {
    // fall through
  }
  throw invalid(`history[${index}].v1Compatibility is not a JSON object`);
}

function commandOf(v1: V1Compatibility): string | undefined {
  const cmd = v1.container_config?.Cmd;
  return Array.isArray(cmd) ? cmd.join(" ") : cmd;
}

function invalid(why: string): SregistryError {
  return new SregistryError(`invalid schema 1 manifest: ${why}`, { code: "MANIFEST_INVALID" });
}
