/**
 * The image model shared by every layer: descriptors, platforms, manifests and the image config.
 *
 * Field names follow the OCI image spec (which Docker's schema 2 shares). Schema 1 documents are
 * kept raw and converted by `registry/schema1.ts`.
 */
import type { Digest } from "./digest.js";

export const MediaType = {
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  OciLayerNondistributable: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OciLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OciLayerNondistributableZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestV1: "application/vnd.docker.distribution.manifest.v1+json",
  DockerManifestV1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  DockerLayerForeign: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

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

/** The `config` member of an image config (what Docker calls ContainerConfig). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[] | null;
  Entrypoint?: string[] | string | null;
  Cmd?: string[] | string | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  [key: string]: unknown;
}

/** An OCI / Docker image configuration blob. */
export interface ImageConfig {
  architecture?: string;
  variant?: string;
  os?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs?: { type: string; diff_ids: Digest[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
  [key: string]: unknown;
}
