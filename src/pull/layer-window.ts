/**
 * The layer window of a pull without a cache (SINGULARITY_DISABLE_CACHE with the native writer):
 * the throw-away blob store holds only the layer the build reads and the next one, so scratch disk
 * is the SIF plus those two blobs, never every layer.
 *
 * - `admit` holds back the download of the layer at image position p until the build has read and
 *   released position p - 2: layer i + 1 downloads while layer i is read, layer i + 2 starts only
 *   once layer i's blob is gone.
 * - `release` (the flattener's `LayerSource.release`, called once the single pass has read and
 *   verified a layer) deletes the blob, unless a later position uses the same blob (schema 1
 *   repeats its empty layer), then opens the window for the next download.
 * - `ensure` (inside the layer's `ready()`) fetches a deleted blob again, verified again, when the
 *   build needs it once more: a single pass that restarts in two passes (flatten.ts) reads again,
 *   one at a time, the layers that own surviving files, and releases each after.
 *
 * Why the blob being read stays on disk: the build reads only verified blobs (digest and size
 * checked before the first byte is parsed), so it cannot read the network stream as it comes.
 *
 * @example
 * ```ts
 * const window = new LayerWindow(resolved.layers, store, (layer) => fetchAgain(layer));
 * await window.admit(layer.digest, signal); // before the download of `layer` starts
 * await window.release(0); // the build is done with image position 0
 * ```
 */
import type { BlobStore } from "../cache/blob-store.js";
import type { Descriptor } from "../oci/types.js";

/** How many layers download ahead of the one the build reads. */
const AHEAD = 1;

/**
 * The most bytes a window holds at once: the two largest consecutive layers (one read, one
 * downloading); unknown sizes (-1) count as 0, as in the disk preflight.
 *
 * @example
 * ```ts
 * windowBytes([{ size: 5 }, { size: 1 }, { size: 7 }] as Descriptor[]); // 8
 * ```
 */
export function windowBytes(layers: readonly Pick<Descriptor, "size">[]): number {
  const sizes = layers.map((layer) => Math.max(0, layer.size));
  let peak = sizes[0] ?? 0;
  for (let i = 1; i < sizes.length; i++) peak = Math.max(peak, sizes[i - 1]! + sizes[i]!);
  return peak;
}

export class LayerWindow {
  /** Per image position: resolved once the build released it (its blob gone if unused later). */
  private readonly released: { promise: Promise<void>; resolve(): void }[];
  private readonly firstPosition = new Map<string, number>();
  private readonly lastPosition = new Map<string, number>();
  private readonly discarded = new Set<string>();

  constructor(
    private readonly layers: readonly Descriptor[],
    private readonly store: BlobStore,
    private readonly fetchAgain: (layer: Descriptor) => Promise<void>,
  ) {
    this.released = layers.map(() => {
      let resolve!: () => void;
      const promise = new Promise<void>((yes) => (resolve = yes));
      return { promise, resolve };
    });
    layers.forEach((layer, position) => {
      if (!this.firstPosition.has(layer.digest)) this.firstPosition.set(layer.digest, position);
      this.lastPosition.set(layer.digest, position);
    });
  }

  /** Resolves when the download of `digest` may start; rejects when `signal` aborts first. */
  async admit(digest: string, signal: AbortSignal): Promise<void> {
    const waitFor = (this.firstPosition.get(digest) ?? 0) - AHEAD - 1;
    if (waitFor < 0) return;
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener("abort", onAbort, { once: true });
      void this.released[waitFor]!.promise.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** The build is done with image position `position`: its blob goes, the next download may start. */
  async release(position: number): Promise<void> {
    const { digest } = this.layers[position]!;
    if (this.lastPosition.get(digest) === position) {
      this.discarded.add(digest);
      await this.store.discard(digest);
    }
    this.released[position]!.resolve();
  }

  /** Fetches `position`'s blob again if it was deleted (a second read after a restart). */
  async ensure(position: number): Promise<void> {
    const layer = this.layers[position]!;
    if (!this.discarded.has(layer.digest)) return;
    await this.fetchAgain(layer);
    this.discarded.delete(layer.digest);
  }
}
