/**
 * Image manifests: OCI manifest.md / Docker schema 2 (a config and layers by descriptor), and
 * Docker schema 1, kept raw and converted by `registry/schema1.ts`.
 *
 * @example
 * ```ts
 * const digests = manifest.layers.map((layer) => layer.digest);
 * ```
 */
import type { Descriptor } from "./descriptor.js";
import type { Digest } from "./digest.js";

/** An OCI image manifest or a Docker schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A Docker schema 1 manifest (signed or not), kept as the registry sent it. */
export interface Schema1Manifest {
  schemaVersion: 1;
  name?: string;
  tag?: string;
  architecture?: string;
  fsLayers: { blobSum: Digest }[];
  history: { v1Compatibility: string }[];
  /** JWS signatures of a signed manifest (`+prettyjws`). */
  signatures?: unknown[];
}
