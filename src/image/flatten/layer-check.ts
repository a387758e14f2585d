/**
 * Checks on one layer's decompressed bytes while the flattener reads them: the inflation bound
 * (decompression bombs) and, in the first full read, the sha256 against the image config's
 * `rootfs.diff_ids` entry.
 *
 * Inflation bound: a layer may inflate to `max(floorBytes, ratio × compressed size)`, default
 * `max(8 GiB, 100 ×)`. Measured on this machine (GNU gzip 1.12, zstd 1.5.4):
 * - the most a format can reach, on zeros: gzip 1030:1 (1 GiB → 1.04 MB at -9; deflate cannot
 *   exceed ~1032:1 because a match covers at most 258 bytes), zstd 32,740:1 (1 GiB → 33 KB; a raw
 *   RLE block holds 128 KiB in 4 bytes, RFC 8878 §3.1.1.2), so 4 GiB of zeros fit in a 4.2 MB gzip
 *   or a 135 KB zstd blob;
 * - real content, tarred and compressed here: /usr/bin 2.6× (gzip -6) / 2.7× (zstd -3),
 *   /usr/share 2.4× / 2.6×, /usr/lib/x86_64-linux-gnu 3.0× / 3.1×, /usr/share/doc (mostly .gz
 *   already) 1.8× / 2.0×, a node_modules tree (JavaScript text) 3.8× / 4.2×. Image layers hold
 *   the same kind of content (binaries, libraries, packages, text), so they sit in this 2–5× band;
 * The ratio gives real layers an order of magnitude of headroom and still stops a gzip bomb at a
 * tenth and a zstd bomb at 1/300 of its size; the floor keeps small layers with big zero-filled
 * files (a `lastlog` grown by a high uid, a preallocated swap or database file) pulling, since
 * those reach the format's maximal ratio legitimately. A layer whose compressed size is unknown is
 * bound by the floor alone.
 *
 * diff_id: the OCI image spec defines `rootfs.diff_ids[i]` as the digest of layer i's uncompressed
 * tar (https://github.com/opencontainers/image-spec/blob/main/config.md#layer-diffid);
 * containerd's unpacker and containers/image (podman, skopeo to storage) check it while extracting,
 * Apptainer (go-containerregistry) does not. The whole stream is hashed, trailing zero blocks
 * included, so the first pass reads a verified layer to its end.
 *
 * @example
 * ```ts
 * const check = new LayerCheck(layer, { index: 0, count: 3 }, DEFAULT_INFLATE_LIMIT, true);
 * for await (const chunk of stream) check.update(chunk);
 * check.verify(); // throws DIGEST_MISMATCH when the tar does not hash to layer.diffId
 * ```
 */
import { createHash, type Hash } from "node:crypto";
import { SregistryError } from "../../util/errors.js";
import { formatBytes } from "../../util/disk.js";
import type { LayerSource } from "./types.js";

/** How far a layer may inflate: `max(floorBytes, ratio × compressed bytes)`. */
export interface InflateLimit {
  ratio: number;
  floorBytes: number;
}

export const DEFAULT_INFLATE_LIMIT: InflateLimit = { ratio: 100, floorBytes: 8 * 1024 ** 3 };

/** Where the bound is configured, for the error message (see config/inflate.ts). */
export const INFLATE_SETTINGS = { ratio: "SREGISTRY_INFLATE_RATIO", floor: "SREGISTRY_INFLATE_FLOOR" };

/** A layer's place in the image, for messages ("layer 2 of 5"). `index` counts from 0. */
export interface LayerPosition {
  index: number;
  count: number;
}

/** The most decompressed bytes a layer of `compressedBytes` may produce. */
export function inflateBound(compressedBytes: number | undefined, limit: InflateLimit): number {
  if (compressedBytes === undefined || !(compressedBytes >= 0)) return limit.floorBytes;
  return Math.max(limit.floorBytes, limit.ratio * compressedBytes);
}

/** "layer 2 of 5 (sha256:…)". */
export function describeLayer(layer: Pick<LayerSource, "digest">, position: LayerPosition): string {
  return `layer ${position.index + 1} of ${position.count} (${layer.digest})`;
}

export class LayerCheck {
  /** Decompressed bytes seen so far. */
  bytes = 0;
  readonly bound: number;
  private readonly hash: Hash | null;

  /** `verify`: hash the bytes and compare them with `layer.diffId` (when the layer has one). */
  constructor(
    private readonly layer: Pick<LayerSource, "digest" | "diffId" | "compressedBytes">,
    private readonly position: LayerPosition,
    private readonly limit: InflateLimit,
    verify: boolean,
  ) {
    this.bound = inflateBound(layer.compressedBytes, limit);
    this.hash = verify && layer.diffId !== undefined ? createHash("sha256") : null;
  }

  /** True when `verify()` will compare a digest: the stream must then be read to its end. */
  get hashing(): boolean {
    return this.hash !== null;
  }

  /** Counts (and hashes) one chunk; throws `LIMIT` as soon as the layer inflates past its bound. */
  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.bound) throw this.bombError();
    this.hash?.update(chunk);
  }

  /** Throws `LIMIT` when the sizes announced by the tar headers alone already exceed the bound. */
  checkDeclared(bytes: number): void {
    if (bytes > this.bound) throw this.bombError();
  }

  /** At the end of the stream: throws `DIGEST_MISMATCH` unless the tar hashes to the diff_id. */
  verify(): void {
    if (this.hash === null) return;
    const actual = `sha256:${this.hash.digest("hex")}`;
    const expected = this.layer.diffId!;
    if (actual === expected) return;
    throw new SregistryError(
      `${describeLayer(this.layer, this.position)} does not match the image config: its uncompressed ` +
        `tar is ${actual} but rootfs.diff_ids[${this.position.index}] is ${expected}; ` +
        `the image is corrupt or was tampered with, nothing was built`,
      { code: "DIGEST_MISMATCH" },
    );
  }

  private bombError(): SregistryError {
    const { ratio, floorBytes } = this.limit;
    const compressed = this.layer.compressedBytes;
    const why =
      compressed === undefined || this.bound === floorBytes
        ? `the ${INFLATE_SETTINGS.floor} of ${formatBytes(floorBytes)}`
        : `${ratio} × its compressed ${formatBytes(compressed)} (${INFLATE_SETTINGS.ratio})`;
    return new SregistryError(
      `${describeLayer(this.layer, this.position)} inflates to more than ${formatBytes(this.bound)}, ` +
        `${why}: refused as a decompression bomb; if the image is genuine, raise ` +
        `${INFLATE_SETTINGS.ratio} (now ${ratio}) or ${INFLATE_SETTINGS.floor} (now ${floorBytes} bytes)`,
      { code: "LIMIT" },
    );
  }
}
