/**
 * The media types of the image model (`MediaType`); for layers, which ones the flattener reads,
 * and which are non-distributable ("foreign": fetched from the descriptor's `urls`, only when
 * allowed). One list for the pull and the build.
 *
 * @example
 * ```ts
 * isForeignLayer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"); // true
 * isDistributableLayer("application/vnd.oci.image.layer.v1.tar+zstd");          // true
 * ```
 */
/**
 * Every media type the model knows: OCI image spec (image-index.md, manifest.md, config.md,
 * layer.md) and Docker's distribution schemas (manifest list, schema 2, schema 1).
 */
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

/** Layer types a registry may serve (an empty type: schema 1 layers, gzip tars). */
const DISTRIBUTABLE = new Set<string>([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.DockerLayerGzip,
  MediaType.DockerLayer,
  "",
]);

const FOREIGN = new Set<string>([
  MediaType.OciLayerNondistributable,
  MediaType.OciLayerNondistributableGzip,
  MediaType.OciLayerNondistributableZstd,
  MediaType.DockerLayerForeign,
]);

export function isDistributableLayer(mediaType: string): boolean {
  return DISTRIBUTABLE.has(mediaType);
}

export function isForeignLayer(mediaType: string): boolean {
  return FOREIGN.has(mediaType);
}
