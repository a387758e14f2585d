/**
 * An image index (OCI image-index.md) or a Docker manifest list: one manifest per platform.
 *
 * @example
 * ```ts
 * const linux = index.manifests.find((d) => d.platform?.os === "linux");
 * ```
 */
import type { Descriptor } from "./descriptor.js";

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}
