/**
 * Layer media types: which ones the flattener reads, and which are non-distributable ("foreign":
 * fetched from the descriptor's `urls`, only when allowed). One list for the pull and the build.
 *
 * @example
 * ```ts
 * isForeignLayer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"); // true
 * isDistributableLayer("application/vnd.oci.image.layer.v1.tar+zstd");          // true
 * ```
 */
import { MediaType } from "./types.js";

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
