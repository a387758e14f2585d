/**
 * Runs the layer flattener into a consumer of its tar stream (the squashfs tool, or the sandbox
 * extractor), with cancellation and a clear error whichever side fails.
 *
 * The consumer is started only after the flattener's first pass succeeded (a bad layer never
 * spawns a tool) and gets the image root's attributes. When the consumer fails, the tar is
 * destroyed so the flattener stops; when the flattener fails, the tar is destroyed with its error
 * so the consumer (and any child process it runs) stops. Aborting `signal` destroys the open layer
 * streams and the tar: the call then rejects with the signal's reason once both sides stopped.
 *
 * @example
 * ```ts
 * const built = await flattenInto(
 *   { layers, overlay, allowForeign: false, logger },
 *   (tar, root, stop) => buildSquashfs(tar, { path: out }, { root, signal: stop }),
 * );
 * ```
 */
import { PassThrough, type Readable } from "node:stream";
import { openLayerStream } from "../build/flatten/decompress.js";
import { flattenLayers } from "../build/flatten/flatten.js";
import { OutputError } from "../build/flatten/sink.js";
import type { LayerSource, OverlayEntry, RootAttributes } from "../build/flatten/types.js";
import type { Logger } from "../util/log.js";

export interface StoredLayer {
  digest: string;
  mediaType: string;
  /** The verified blob in the cache. */
  path: string;
}

export interface FlattenIntoInput {
  layers: StoredLayer[];
  overlay: readonly OverlayEntry[];
  allowForeign: boolean;
  logger: Logger;
  signal?: AbortSignal;
  /** Tar bytes produced so far (for progress). */
  onBytes?: (bytes: number) => void;
}

/**
 * Reads the tar. `stop` is aborted whenever the pipeline gives up (flattener failure, user abort):
 * a consumer that runs a child process must kill it then, even if it had not started reading yet.
 */
export type TarConsumer<T> = (tar: Readable, root: RootAttributes, stop: AbortSignal) => Promise<T>;

export async function flattenInto<T>(input: FlattenIntoInput, consume: TarConsumer<T>): Promise<T> {
  input.signal?.throwIfAborted();
  const open = new Set<Readable>();
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  tar.on("error", () => undefined); // surfaced through the flattener's and the consumer's promises
  const sources = layerSources(input, open);
  let consuming: Promise<T> | undefined;
  let consumerError: unknown;
  const stopping = new AbortController();
  const stop = (reason: unknown): void => {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    for (const stream of open) stream.destroy(error);
    if (!tar.destroyed) tar.destroy(error);
    if (!stopping.signal.aborted) stopping.abort(error);
  };
  const onAbort = (): void => stop(input.signal?.reason);
  input.signal?.addEventListener("abort", onAbort, { once: true });
  let last = 0;
  const flattening = flattenLayers(sources, input.overlay, tar, {
    logger: input.logger,
    onProgress: (total) => {
      input.onBytes?.(total - last);
      last = total;
    },
    onScanned: (root) => {
      consuming = consume(tar, root, stopping.signal);
      consuming.catch((err: unknown) => {
        consumerError = err;
        stop(err);
      });
    },
  });
  try {
    try {
      await flattening;
    } catch (err) {
      stop(err);
      await consuming?.catch(() => undefined);
      input.signal?.throwIfAborted();
      // The tar side failed only because its reader went away: the reader's reason is the real one.
      if (err instanceof OutputError && consumerError !== undefined) throw consumerError;
      throw err;
    }
    const result = await consuming!;
    input.signal?.throwIfAborted();
    return result;
  } catch (err) {
    input.signal?.throwIfAborted();
    throw err;
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
  }
}

/** The flattener's view of the cached layers; every stream opened is tracked so an abort can end it. */
function layerSources(input: FlattenIntoInput, open: Set<Readable>): LayerSource[] {
  return input.layers.map((layer) => ({
    digest: layer.digest,
    mediaType: layer.mediaType,
    open: () => {
      const stream = openLayerStream(layer.path, layer.mediaType, { allowForeign: input.allowForeign });
      open.add(stream);
      stream.once("close", () => open.delete(stream));
      if (input.signal?.aborted) stream.destroy(input.signal.reason as Error);
      return stream;
    },
  }));
}
