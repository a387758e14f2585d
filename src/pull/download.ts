/**
 * Download stage: every layer blob into the content-addressed cache, `threads` at a time,
 * verified while streaming (the cache does size, digest, resume and locking).
 *
 * @example
 * ```ts
 * await downloadLayers({ store, remote, layers: image.layers, threads: 9, emit });
 * ```
 */
import type { BlobStore } from "../cache/blob-store.js";
import type { Remote } from "../api/backend.js";
import type { Descriptor } from "../registry/types.js";
import { isForeignLayer } from "./media.js";
import { mapLimit } from "../util/pool.js";
import { SregistryError } from "../util/errors.js";
import type { PullEventListener } from "./events.js";

export interface DownloadInput {
  store: BlobStore;
  remote: Remote;
  layers: Descriptor[];
  threads: number;
  allowForeign?: boolean;
  emit: PullEventListener;
  signal?: AbortSignal;
}

/** Unique layers by digest, in first-seen order (schema 1 repeats the empty layer). */
export function uniqueLayers(layers: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return layers.filter((layer) => !seen.has(layer.digest) && seen.add(layer.digest));
}

export async function downloadLayers(input: DownloadInput): Promise<void> {
  const { store, remote, emit } = input;
  const repository = remote.reference.repository;
  for (const layer of input.layers) {
    if (isForeignLayer(layer.mediaType) && !input.allowForeign) {
      throw new SregistryError(
        `layer ${layer.digest} is non-distributable (${layer.mediaType}); pass --allow-foreign-layers to fetch it`,
        { code: "FOREIGN_LAYER" },
      );
    }
  }
  await mapLimit(uniqueLayers(input.layers), input.threads, async (layer) => {
    const result = await store.ensure(
      { digest: layer.digest, size: layer.size },
      async (offset) => {
        const response = await remote.registry.openBlob(repository, layer.digest, {
          offset,
          ...(input.signal ? { signal: input.signal } : {}),
        });
        return { body: response.body, offset: response.status === 206 ? offset : 0 };
      },
      {
        onProgress: (bytes) => emit({ type: "layer-progress", digest: layer.digest, bytes }),
        ...(input.signal ? { signal: input.signal } : {}),
      },
    );
    emit({ type: "layer-done", digest: layer.digest, cached: result.cached, downloaded: result.downloaded });
  });
}
