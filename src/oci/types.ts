/**
 * The image model in one import, as go-containerregistry's `pkg/v1` is one package: descriptors,
 * platforms, manifests, index and config, each defined in its own module beside this one
 * (descriptor.ts, platform.ts, manifest.ts, image-index.ts, config.ts, media-types.ts). Field names
 * follow the OCI image spec, which Docker's schema 2 shares.
 *
 * @example
 * ```ts
 * import { MediaType, type Descriptor, type ImageManifest } from "../oci/types.js";
 * ```
 */
export type { ContainerConfig, ImageConfig } from "./config.js";
export type { Descriptor } from "./descriptor.js";
export type { ImageIndex } from "./image-index.js";
export type { ImageManifest, Schema1Manifest } from "./manifest.js";
export { MediaType } from "./media-types.js";
export type { Platform } from "./platform.js";
