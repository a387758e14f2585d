/**
 * The layer window of a pull without a cache (SINGULARITY_DISABLE_CACHE with the native writer):
 * the throw-away blob store never holds more than one layer's worth of bytes — the size of the
 * image's largest layer — so scratch disk is the SIF plus at most one layer.
 *
 * - `admit` holds back the download of the layer at image position p, in image order, until its
 *   blob fits: the blobs on disk plus this one come to at most the largest layer's size. Layers
 *   smaller than that may download while an earlier one is read; a layer as large as the largest
 *   starts once the one before it was read and deleted. A layer of unknown size (-1: schema 1
 *   manifests carry none) waits until nothing is held.
 * - Whatever the sizes, position p is admitted once every earlier position was released: the build
 *   reads in image order, so it is then waiting for p, and holding back would never end. Only a
 *   blob kept for a later position (schema 1 repeats its empty layer) can be held beside it.
 * - `release` (the flattener's `LayerSource.release`, called once the single pass has read and
 *   verified a layer) deletes the blob, unless a later position uses the same blob, then admits
 *   what now fits.
 * - `ensure` (inside the layer's `ready()`) fetches a deleted blob again, verified again, when the
 *   build needs it once more: a single pass that restarts in two passes (flatten.ts) reads again,
 *   one at a time and after every first read, the layers that own surviving files.
 *
 * Why the blob being read stays on disk: the build reads only verified blobs (digest and size
 * checked before the first byte is parsed), so it cannot read the network stream as it comes. The
 * price of the bound: a download overlaps the build only where layers are small enough to share
 * the window.
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

/**
 * The most layer bytes a window holds at once: the largest layer (unknown sizes, -1, count as 0,
 * as in the disk preflight).
 *
 * @example
 * ```ts
 * windowBytes([{ size: 5 }, { size: 1 }, { size: 7 }] as Descriptor[]); // 7
 * ```
 */
export function windowBytes(layers: readonly Pick<Descriptor, "size">[]): number {
  return layers.reduce((largest, layer) => Math.max(largest, layer.size), 0);
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export class LayerWindow {
  private readonly budget: number;
  /** Per image position: opened once its download may start. */
  private readonly admitted: Gate[];
  private readonly released: boolean[];
  private readonly firstPosition = new Map<string, number>();
  private readonly lastPosition = new Map<string, number>();
  /** Blobs admitted (or fetched again) and not yet deleted, with their sizes (-1: unknown). */
  private readonly held = new Map<string, number>();
  private heldBytes = 0;
  /** The first position not yet admitted. */
  private next = 0;

  constructor(
    private readonly layers: readonly Descriptor[],
    private readonly store: BlobStore,
    private readonly fetchAgain: (layer: Descriptor) => Promise<void>,
  ) {
    this.budget = windowBytes(layers);
    this.admitted = layers.map(() => gate());
    this.released = layers.map(() => false);
    layers.forEach((layer, position) => {
      if (!this.firstPosition.has(layer.digest)) this.firstPosition.set(layer.digest, position);
      this.lastPosition.set(layer.digest, position);
    });
    this.admitWhatFits();
  }

  /** Resolves when the download of `digest` may start; rejects when `signal` aborts first. */
  async admit(digest: string, signal: AbortSignal): Promise<void> {
    const position = this.firstPosition.get(digest) ?? 0;
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener("abort", onAbort, { once: true });
      void this.admitted[position]!.promise.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** The build is done with image position `position`: its blob goes, what fits now may start. */
  async release(position: number): Promise<void> {
    const { digest } = this.layers[position]!;
    this.released[position] = true;
    if (this.lastPosition.get(digest) === position && this.held.has(digest)) {
      await this.store.discard(digest);
      this.heldBytes -= Math.max(0, this.held.get(digest)!);
      this.held.delete(digest);
    }
    this.admitWhatFits();
  }

  /** Fetches `position`'s blob again if it was deleted (a second read after a restart). */
  async ensure(position: number): Promise<void> {
    const layer = this.layers[position]!;
    if (this.held.has(layer.digest) || this.firstPosition.get(layer.digest)! >= this.next) return;
    await this.fetchAgain(layer);
    this.hold(layer);
  }

  /** Admits, in image order, every position whose blob fits (or that the build waits for). */
  private admitWhatFits(): void {
    while (this.next < this.layers.length) {
      const position = this.next;
      const layer = this.layers[position]!;
      const repeat = this.firstPosition.get(layer.digest) !== position;
      if (!repeat && !this.fits(layer) && !this.released.slice(0, position).every(Boolean)) return;
      if (!repeat) this.hold(layer);
      this.admitted[position]!.open();
      this.next += 1;
    }
  }

  private fits(layer: Descriptor): boolean {
    if (this.held.size === 0) return true;
    const unknownHeld = [...this.held.values()].some((size) => size < 0);
    return !unknownHeld && layer.size >= 0 && this.heldBytes + layer.size <= this.budget;
  }

  private hold(layer: Descriptor): void {
    this.held.set(layer.digest, layer.size);
    this.heldBytes += Math.max(0, layer.size);
  }
}
