/**
 * A descriptor: what one document or blob is (media type, digest, size), as OCI descriptor.md
 * defines it; manifests list their config and layers, an index its manifests, by descriptor.
 *
 * @example
 * ```ts
 * const layer: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: "sha256:…", size: 1234 };
 * ```
 */
import type { Digest } from "./digest.js";
import type { Platform } from "./platform.js";

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}
