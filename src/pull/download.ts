/**
 * Download stage: every layer blob into the content-addressed cache, `threads` at a time,
 * verified while streaming (the cache does size, digest, Range resume, retries and locking).
 *
 * Failure is all-or-nothing and tidy: the first failing layer cancels the others, and the call only
 * rejects once every download has stopped (so a temporary cache can be deleted right after, and no
 * request is still running when the command exits). Verified blobs already in the cache stay there
 * for the next pull.
 *
 * @example
 * ```ts
 * await downloadLayers({ store, remote, layers: image.layers, threads: 9, emit });
 * ```
 */
import type { BlobStore } from "../cache/blob-store.js";
import type { Remote } from "../api/backend.js";
import type { Descriptor } from "../registry/types.js";
import { SregistryError } from "../util/errors.js";
import { isForeignLayer } from "./media.js";
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

/** Throws for a non-distributable layer unless allowed: checked before anything is fetched. */
export function checkForeignLayers(layers: Descriptor[], allowForeign: boolean): void {
  if (allowForeign) return;
  const foreign = layers.find((layer) => isForeignLayer(layer.mediaType));
  if (foreign) {
    throw new SregistryError(
      `layer ${foreign.digest} is non-distributable (${foreign.mediaType}); ` +
        "pass --allow-foreign-layers to fetch it",
      { code: "LAYER_FOREIGN" },
    );
  }
}

export async function downloadLayers(input: DownloadInput): Promise<void> {
  checkForeignLayers(input.layers, input.allowForeign ?? false);
  const cancel = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, cancel.signal]) : cancel.signal;
  const queue = uniqueLayers(input.layers);
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    for (let layer = queue.shift(); layer && !signal.aborted; layer = queue.shift()) {
      try {
        await fetchLayer(input, layer, signal);
      } catch (err) {
        firstError ??= err;
        cancel.abort(err);
      }
    }
  };
  const workers = Math.max(1, Math.min(input.threads, queue.length));
  await Promise.all(Array.from({ length: workers }, worker));
  input.signal?.throwIfAborted();
  if (firstError !== undefined) throw firstError;
}

async function fetchLayer(input: DownloadInput, layer: Descriptor, signal: AbortSignal): Promise<void> {
  const { store, remote, emit } = input;
  const repository = remote.reference.repository;
  const result = await store.ensure(
    { digest: layer.digest, size: layer.size },
    async (offset) => {
      const response = await remote.registry.openBlob(repository, layer.digest, { offset, signal });
      return { body: response.body, offset: response.status === 206 ? offset : 0 };
    },
    {
      onProgress: (bytes) => emit({ type: "layer-progress", digest: layer.digest, bytes }),
      signal,
      source: `${remote.reference.registry}/${repository}`,
    },
  );
  emit({ type: "layer-done", digest: layer.digest, cached: result.cached, downloaded: result.downloaded });
}
