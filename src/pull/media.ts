/** Layer media-type facts the pull needs: which are non-distributable ("foreign"). */
import { MediaType } from "../oci/types.js";

const FOREIGN = new Set<string>([
  MediaType.DockerLayerForeign,
  MediaType.OciLayerNondistributable,
  MediaType.OciLayerNondistributableGzip,
  MediaType.OciLayerNondistributableZstd,
]);

export function isForeignLayer(mediaType: string): boolean {
  return FOREIGN.has(mediaType);
}
