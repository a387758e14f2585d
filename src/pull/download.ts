/**
 * Download stage: every layer blob into the content-addressed cache, `threads` at a time,
 * verified while streaming (the cache does size, digest, Range resume, retries and locking).
 *
 * Failure is all-or-nothing and tidy: the first failing layer cancels the others, and the call only
 * rejects once every download has stopped (so a temporary cache can be deleted right after, and no
 * request is still running when the command exits). Verified blobs already in the cache stay there
 * for the next pull.
 *
 * Layers start in image order, `threads` at a time, so the layer the build reads next (it reads
 * them in order) is the one fetched first; `onLayerReady` tells the build each layer it may read,
 * `onFailure` the first failure, at once (pipeline.ts runs the build alongside the download).
 *
 * An allowed foreign (non-distributable) layer whose descriptor lists `urls` is fetched from those URLs
 * first, with foreign-urls.ts's SSRF checks, and from the registry when none of them serves it (as
 * go-containerregistry does); the cache verifies digest and size whichever source answered. When the
 * registry fails too, its error also says why the URLs failed.
 *
 * @example
 * ```ts
 * await downloadLayers({ store, remote, layers: image.layers, threads: 9, emit });
 * ```
 */
import type { BlobOpener, BlobStore } from "../cache/blob-store.js";
import type { Remote } from "./remote.js";
import type { Transport } from "../registry/http.js";
import type { Descriptor } from "../oci/types.js";
import { SregistryError } from "../util/errors.js";
import { silentLogger, type Logger } from "../util/log.js";
import {
  createForeignTransport,
  openForeignBlob,
  withUrlFailure,
  type ForeignBlobOptions,
} from "./foreign-urls.js";
import { isForeignLayer } from "../oci/media-types.js";
import type { PullEventListener } from "./events.js";

export interface DownloadInput {
  store: BlobStore;
  remote: Remote;
  layers: Descriptor[];
  threads: number;
  allowForeign?: boolean;
  emit: PullEventListener;
  signal?: AbortSignal;
  /** Debug lines say which source (foreign URL or registry) served a foreign layer. */
  logger?: Logger;
  /** Do not verify TLS certificates of foreign-layer URLs (SREGISTRY_HTTPS_NOVERIFY). */
  httpsNoVerify?: boolean;
  /** Foreign-URL fetching knobs for tests (DNS, loopback servers, transport). */
  foreignUrls?: Pick<ForeignBlobOptions, "resolve" | "allowLoopbackForTests" | "transport">;
  /**
   * Awaited before each layer's download starts (a pull without a cache keeps only a window of
   * layers on disk: layer-window.ts); a rejection fails the download like a failed request.
   */
  admit?: (layer: Descriptor, signal: AbortSignal) => Promise<void>;
  /** Called once a layer is in the cache, verified (digest and size): the build may read it. */
  onLayerReady?: (digest: string) => void;
  /**
   * Called once, at the first failure (or abort), with its error: before the other downloads have
   * stopped, so a build waiting for a layer can give up at once.
   */
  onFailure?: (err: unknown) => void;
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

/** Fetches the layers into the store; the caller has refused foreign layers (`checkForeignLayers`). */
export async function downloadLayers(input: DownloadInput): Promise<void> {
  const cancel = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, cancel.signal]) : cancel.signal;
  const queue = uniqueLayers(input.layers);
  // One transport for every foreign URL of this pull, created only if some layer needs it.
  const needsUrls = queue.some((layer) => usesForeignUrls(input, layer));
  const owned =
    needsUrls && !input.foreignUrls?.transport
      ? createForeignTransport({ httpsNoVerify: input.httpsNoVerify, ...input.foreignUrls })
      : undefined;
  const foreignTransport = needsUrls ? (input.foreignUrls?.transport ?? owned) : undefined;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    for (let layer = queue.shift(); layer && !signal.aborted; layer = queue.shift()) {
      try {
        // Each layer gets its own signal that follows the pull's: the listeners of one download
        // (request, body copy, retry sleeps, lock waits) then sit on it, not on the one signal
        // every worker shares (which warned MaxListenersExceeded past 10). AbortSignal.any adds
        // no listener to its sources: https://nodejs.org/api/globals.html#abortsignalanysignals
        await input.admit?.(layer, signal);
        await fetchLayer(input, layer, AbortSignal.any([signal]), foreignTransport);
        input.onLayerReady?.(layer.digest);
      } catch (err) {
        if (firstError === undefined) {
          firstError = err;
          input.onFailure?.(input.signal?.aborted ? input.signal.reason : err);
        }
        cancel.abort(err);
      }
    }
  };
  const workers = Math.max(1, Math.min(input.threads, queue.length));
  await Promise.all(Array.from({ length: workers }, worker));
  owned?.close();
  if (input.signal?.aborted) {
    if (firstError === undefined) input.onFailure?.(input.signal.reason);
    input.signal.throwIfAborted();
  }
  if (firstError !== undefined) throw firstError;
}

function usesForeignUrls(input: DownloadInput, layer: Descriptor): boolean {
  return (input.allowForeign ?? false) && isForeignLayer(layer.mediaType) && (layer.urls?.length ?? 0) > 0;
}

async function fetchLayer(
  input: DownloadInput,
  layer: Descriptor,
  signal: AbortSignal,
  foreignTransport: Transport | undefined,
): Promise<void> {
  const { store, remote, emit } = input;
  const repository = remote.reference.repository;
  const fromRegistry: BlobOpener = async (offset) => {
    const response = await remote.registry.openBlob(repository, layer.digest, { offset, signal });
    return { body: response.body, offset: response.status === 206 ? offset : 0 };
  };
  const opener =
    foreignTransport && usesForeignUrls(input, layer)
      ? foreignFirst(input, layer, signal, foreignTransport, fromRegistry)
      : fromRegistry;
  const result = await store.ensure({ digest: layer.digest, size: layer.size }, opener, {
    onProgress: (bytes) => emit({ type: "layer-progress", digest: layer.digest, bytes }),
    signal,
    source: `${remote.reference.registry}/${repository}`,
  });
  emit({ type: "layer-done", digest: layer.digest, cached: result.cached, downloaded: result.downloaded });
}

/**
 * Opener for a foreign layer: its URLs first, the registry when every URL fails. Once the URLs have
 * failed, resumes of this layer go straight to the registry.
 */
function foreignFirst(
  input: DownloadInput,
  layer: Descriptor,
  signal: AbortSignal,
  transport: Transport,
  fromRegistry: BlobOpener,
): BlobOpener {
  const logger = input.logger ?? silentLogger;
  const registry = `${input.remote.reference.registry}/${input.remote.reference.repository}`;
  let urlFailure: SregistryError | undefined;
  return async (offset) => {
    if (!urlFailure) {
      try {
        const opened = await openForeignBlob(layer.urls ?? [], {
          offset,
          insecure: input.remote.backend.insecure,
          signal,
          ...input.foreignUrls,
          transport,
        });
        logger.debug(`foreign layer ${layer.digest} served by ${opened.url.split("?")[0] ?? ""}`);
        return { body: opened.body, offset: opened.offset };
      } catch (err) {
        signal.throwIfAborted();
        if (!(err instanceof SregistryError) || err.code !== "FOREIGN_URL") throw err;
        urlFailure = err;
        logger.debug(`${err.message}; fetching foreign layer ${layer.digest} from ${registry}`);
      }
    }
    const opened = await fromRegistry(offset).catch((err: unknown) => {
      throw withUrlFailure(err, urlFailure!);
    });
    logger.debug(`foreign layer ${layer.digest} served by the registry ${registry}`);
    return opened;
  };
}
