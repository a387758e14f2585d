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
 * Layer content checks happen in the flattener's first pass, so before the consumer exists: each
 * layer's decompressed tar must hash to its `rootfs.diff_ids` entry, and may inflate to at most
 * `max(floor, ratio × blob size)` (the blob's size is taken from the cache file). An image config
 * without diff_ids (Docker schema 1, converted in registry/schema1.ts) gets no diff_id check: its
 * layers are vouched for by their blob digests only. A diff_id list of another length than the
 * layer list is refused (the registry client refuses it already; this is the build's own guard).
 *
 * @example
 * ```ts
 * const built = await flattenInto(
 *   { layers, overlay, allowForeign: false, logger },
 *   (tar, root, stop) => buildSquashfs(tar, { path: out }, { root, signal: stop }),
 * );
 * ```
 */
import { stat } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { openLayerStream } from "./flatten/decompress.js";
import { flattenLayers } from "./flatten/flatten.js";
import { OutputError, type EntrySink } from "./flatten/sink.js";
import { describeLayer, type InflateLimit, type LayerPosition } from "./flatten/layer-check.js";
import type { LayerSource, OverlayEntry, RootAttributes } from "./flatten/types.js";
import { SregistryError } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export interface StoredLayer {
  digest: string;
  mediaType: string;
  /** The verified blob in the cache (once `ready` resolved, when there is one). */
  path: string;
  /**
   * Resolves when the blob at `path` is downloaded and verified, rejects when it will not be: the
   * build then starts before the download ends and reads each layer as soon as it is there.
   */
  ready?: () => Promise<void>;
  /** The build will not read the blob again without `ready()` first (flatten/types.ts `release`). */
  release?: () => Promise<void>;
}

export interface FlattenIntoInput {
  layers: StoredLayer[];
  overlay: readonly OverlayEntry[];
  /**
   * The image config's `rootfs.diff_ids`, one per layer, or undefined when the config has none
   * (schema 1): required so that no caller forgets it.
   */
  diffIds: readonly string[] | undefined;
  /** How far a layer may inflate (default `max(8 GiB, 100 × blob size)`). */
  inflateLimit?: InflateLimit;
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
  const sources = await layerSources(input, open);
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  tar.on("error", () => undefined); // surfaced through the flattener's and the consumer's promises
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
    ...(input.inflateLimit ? { inflateLimit: input.inflateLimit } : {}),
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

/**
 * A sink that owns a resource (the native writer's file): `close()` releases it and returns the
 * build's result, or, given the failure, stops pending work and rethrows it. `failure` is the
 * output's own first error when the flattener was only told "the output failed".
 */
export interface ClosingSink<T> extends EntrySink {
  readonly failure?: unknown;
  close(failure?: unknown): Promise<T>;
}

/**
 * Runs the flattener straight into a sink (no tar in between: see flatten/sink.ts `EntrySink`).
 * `open` is called first, with the progress callback; the sink gets the image root's attributes
 * through `start()` after the first pass. A sink that stores bodies early (the native writer)
 * receives file contents during the first pass, before every layer passed its checks: it must
 * write only to a file that is removed when the build fails (the pull's temporary SIF is).
 *
 * @example
 * ```ts
 * const built = await flattenToSink({ layers, overlay, diffIds, allowForeign: false, logger },
 *   (onProgress) => openNativeSink({ path: sifTmp, offset }, { compression, onProgress }));
 * ```
 */
export async function flattenToSink<T>(
  input: FlattenIntoInput,
  open: (onProgress: (total: number) => void) => Promise<ClosingSink<T>>,
): Promise<T> {
  input.signal?.throwIfAborted();
  const streams = new Set<Readable>();
  const sources = await layerSources(input, streams);
  const onAbort = (): void => {
    const reason = input.signal?.reason;
    const error = reason instanceof Error ? reason : new Error(String(reason));
    for (const stream of streams) stream.destroy(error);
  };
  input.signal?.addEventListener("abort", onAbort, { once: true });
  let sink: ClosingSink<T> | undefined;
  let last = 0;
  const onProgress = (total: number): void => {
    input.onBytes?.(total - last);
    last = total;
  };
  let failure: unknown;
  try {
    sink = await open(onProgress);
    await flattenLayers(sources, input.overlay, sink, {
      logger: input.logger,
      ...(input.inflateLimit ? { inflateLimit: input.inflateLimit } : {}),
    });
  } catch (err) {
    for (const stream of streams) stream.destroy();
    // The flattener only saw "the output failed": the output's own error is the real one.
    failure = sink?.failure ?? err;
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
  }
  if (input.signal?.aborted) failure = input.signal.reason;
  if (sink === undefined) throw failure;
  // The sink is closed in every case (its file descriptor); with a failure this rethrows it.
  return sink.close(failure);
}

/** The flattener's view of the cached layers; every stream opened is tracked so an abort can end it. */
async function layerSources(input: FlattenIntoInput, open: Set<Readable>): Promise<LayerSource[]> {
  const { layers, diffIds } = input;
  if (diffIds !== undefined && diffIds.length !== layers.length) {
    throw new SregistryError(
      `the image config lists ${diffIds.length} rootfs.diff_ids for ${layers.length} layers; the image is broken`,
      { code: "MANIFEST_INVALID" },
    );
  }
  if (diffIds === undefined) {
    input.logger.debug("the image config has no rootfs.diff_ids: layers are checked by blob digest only");
  }
  // A layer still downloading is measured once it is there (its `ready`); the others now.
  const sizes = await Promise.all(
    layers.map((layer, index) =>
      layer.ready ? undefined : blobSize(layer, { index, count: layers.length }),
    ),
  );
  return layers.map((layer, i) => {
    const source: LayerSource = {
      digest: layer.digest,
      mediaType: layer.mediaType,
      ...(sizes[i] === undefined ? {} : { compressedBytes: sizes[i] }),
      ...(diffIds === undefined ? {} : { diffId: diffIds[i]! }),
      open: () => {
        const stream = openLayerStream(layer.path, layer.mediaType, { allowForeign: input.allowForeign });
        open.add(stream);
        stream.once("close", () => open.delete(stream));
        if (input.signal?.aborted) stream.destroy(input.signal.reason as Error);
        return stream;
      },
    };
    if (layer.release) source.release = layer.release;
    const ready = layer.ready;
    if (ready) {
      source.ready = async () => {
        await ready();
        source.compressedBytes ??= await blobSize(layer, { index: i, count: layers.length });
      };
    }
    return source;
  });
}

/** The cached blob's size (what the inflation bound is relative to). */
async function blobSize(layer: StoredLayer, position: LayerPosition): Promise<number> {
  try {
    return (await stat(layer.path)).size;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SregistryError(`${describeLayer(layer, position)} cannot be read from the cache: ${why}`, {
      code: "LAYER_INVALID",
      cause: err,
    });
  }
}
