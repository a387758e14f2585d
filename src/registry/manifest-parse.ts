/**
 * Parsing and validation of manifest documents, independent of HTTP.
 *
 * The document's kind (index, manifest, schema 1) is taken from the body's `mediaType`, else the
 * response Content-Type, else its structure, and all three must agree (CVE-2021-41190: an index
 * that also carries `layers`, or a body whose `mediaType` says "manifest" while it lists
 * `manifests`, is rejected). The JSON is parsed whatever the Content-Type says (nvcr.io once
 * answered with a text type). Every descriptor is checked: a strictly valid digest (it later
 * becomes a URL and a cache path, CVE-2024-3727), a non-negative safe-integer size.
 *
 * @example
 * ```ts
 * const { kind, mediaType, json } = parseManifest(bytes, header(res, "content-type"), "nvcr.io/nvidia/cuda:12.0");
 * ```
 */
import { isDigest } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import { MediaType, type ImageIndex, type ImageManifest, type Schema1Manifest } from "../oci/types.js";

export type ManifestKind = "index" | "manifest" | "schema1";

/** A validated manifest document; `kind` tells which JSON shape it has. */
export type ParsedManifest =
  | { kind: "index"; mediaType: string; json: ImageIndex }
  | { kind: "manifest"; mediaType: string; json: ImageManifest }
  | { kind: "schema1"; mediaType: string; json: Schema1Manifest };

/** Every manifest type we accept, most preferred first (the Accept header of a manifest GET). */
export const MANIFEST_MEDIA_TYPES = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
  MediaType.DockerManifestV1Signed,
  MediaType.DockerManifestV1,
] as const;

const MAX_DESCRIPTORS = 10_000;

/** The kind a media type names, or undefined for types that are not manifests. */
export function kindOfMediaType(mediaType: string | undefined): ManifestKind | undefined {
  switch (mediaType?.split(";")[0]?.trim().toLowerCase()) {
    case MediaType.OciIndex:
    case MediaType.DockerManifestList:
      return "index";
    case MediaType.OciManifest:
    case MediaType.DockerManifest:
      return "manifest";
    case MediaType.DockerManifestV1:
    case MediaType.DockerManifestV1Signed:
      return "schema1";
    default:
      return undefined;
  }
}

export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string): ParsedManifest {
  const fail = (why: string): SregistryError =>
    new SregistryError(`invalid manifest for ${where}: ${why}`, { code: "MANIFEST_INVALID" });
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw fail("not valid JSON");
  }
  if (!isObject(json)) throw fail("not a JSON object");

  const structural = structureKind(json, fail);
  const declared = json.mediaType;
  if (declared !== undefined && typeof declared !== "string") throw fail("mediaType is not a string");
  const bodyKind = declared === undefined ? undefined : kindOfMediaType(declared);
  if (declared !== undefined && bodyKind === undefined) throw fail(`unsupported mediaType ${declared}`);
  if (bodyKind && bodyKind !== structural) {
    throw fail(`mediaType ${declared} disagrees with the document's structure (${structural})`);
  }
  const headerType = contentType?.split(";")[0]?.trim().toLowerCase();
  const headerKind = kindOfMediaType(headerType);
  if (headerKind && headerKind !== structural) {
    throw fail(`Content-Type ${headerType} disagrees with the document's structure (${structural})`);
  }

  // After validation: the default media type of a manifest reads its config descriptor.
  const mediaTypeOf = (): string =>
    declared ?? (headerKind ? headerType! : defaultMediaType(structural, json));
  if (structural === "index") {
    validateIndex(json, fail);
    return { kind: "index", mediaType: mediaTypeOf(), json };
  }
  if (structural === "manifest") {
    validateManifest(json, fail);
    return { kind: "manifest", mediaType: mediaTypeOf(), json };
  }
  validateSchema1(json, fail);
  return { kind: "schema1", mediaType: mediaTypeOf(), json };
}

type Fail = (why: string) => SregistryError;
type Json = Record<string, unknown>;

function structureKind(json: Json, fail: Fail): ManifestKind {
  if (json.schemaVersion === 1) return "schema1";
  const hasIndexShape = "manifests" in json;
  const hasManifestShape = "config" in json || "layers" in json;
  if (hasIndexShape && hasManifestShape) throw fail("document has both manifests and config/layers");
  if (hasIndexShape) return "index";
  if (hasManifestShape) return "manifest";
  throw fail("document has neither manifests nor config/layers");
}

function defaultMediaType(kind: ManifestKind, json: Json): string {
  if (kind === "index") return MediaType.OciIndex;
  if (kind === "schema1")
    return "signatures" in json ? MediaType.DockerManifestV1Signed : MediaType.DockerManifestV1;
  const config = json.config as Json;
  return config.mediaType === MediaType.DockerConfig ? MediaType.DockerManifest : MediaType.OciManifest;
}

function validateIndex(json: Json, fail: Fail): asserts json is Json & ImageIndex {
  if (json.schemaVersion !== 2) throw fail("schemaVersion must be 2");
  const list = descriptorList(json.manifests, "manifests", fail);
  list.forEach((d, i) => validateDescriptor(d, `manifests[${i}]`, fail));
}

function validateManifest(json: Json, fail: Fail): asserts json is Json & ImageManifest {
  if (json.schemaVersion !== 2) throw fail("schemaVersion must be 2");
  validateDescriptor(json.config, "config", fail);
  const list = descriptorList(json.layers, "layers", fail);
  list.forEach((d, i) => validateDescriptor(d, `layers[${i}]`, fail));
}

function validateSchema1(json: Json, fail: Fail): asserts json is Json & Schema1Manifest {
  const layers = descriptorList(json.fsLayers, "fsLayers", fail);
  const history = descriptorList(json.history, "history", fail);
  if (layers.length === 0) throw fail("fsLayers is empty");
  if (layers.length !== history.length) throw fail("fsLayers and history differ in length");
  layers.forEach((l, i) => {
    if (!isObject(l) || !isDigest(l.blobSum)) throw fail(`fsLayers[${i}].blobSum is not a valid digest`);
  });
  history.forEach((h, i) => {
    if (!isObject(h) || typeof h.v1Compatibility !== "string")
      throw fail(`history[${i}].v1Compatibility missing`);
  });
}

function descriptorList(value: unknown, name: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) throw fail(`${name} is not a list`);
  if (value.length > MAX_DESCRIPTORS) throw fail(`${name} has more than ${MAX_DESCRIPTORS} entries`);
  return value;
}

/** Checks one descriptor in place; exported for config/blob descriptors checked elsewhere. */
export function validateDescriptor(value: unknown, path: string, fail: Fail): void {
  if (!isObject(value)) throw fail(`${path} is not an object`);
  if (typeof value.mediaType !== "string" || value.mediaType === "") throw fail(`${path}.mediaType missing`);
  if (!isDigest(value.digest)) throw fail(`${path}.digest is not a valid digest`);
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw fail(`${path}.size must be a non-negative integer`);
  }
  if (
    value.urls !== undefined &&
    !(Array.isArray(value.urls) && value.urls.every((u) => typeof u === "string"))
  ) {
    throw fail(`${path}.urls must be a list of strings`);
  }
  if (value.annotations !== undefined && !isStringMap(value.annotations)) {
    throw fail(`${path}.annotations must map strings to strings`);
  }
  const platform = value.platform;
  if (platform !== undefined) {
    if (!isObject(platform) || typeof platform.os !== "string" || typeof platform.architecture !== "string") {
      throw fail(`${path}.platform needs os and architecture`);
    }
    if (platform.variant !== undefined && typeof platform.variant !== "string") {
      throw fail(`${path}.platform.variant must be a string`);
    }
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): boolean {
  return isObject(value) && Object.values(value).every((v) => typeof v === "string");
}
