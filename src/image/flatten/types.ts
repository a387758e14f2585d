/**
 * Public types of the flattener: what goes in (layers, synthetic overlay entries, limits) and the
 * statistics that come out.
 *
 * @example
 * ```ts
 * const layer: LayerSource = {
 *   digest: "sha256:…",
 *   mediaType: MediaType.OciLayerGzip,
 *   open: () => openLayerStream(blobPath, MediaType.OciLayerGzip),
 * };
 * ```
 */
import type { Readable } from "node:stream";
import type { Logger } from "../../util/log.js";
import type { InflateLimit } from "./layer-check.js";

export interface LayerSource {
  digest: string;
  mediaType: string;
  /** Opens the layer as a decompressed tar stream; called once or twice (flatten.ts's passes). */
  open(): Readable;
  /**
   * The image config's `rootfs.diff_ids` entry: sha256 of the decompressed tar, verified during the
   * first pass. Absent for images that have none (schema 1): only the blob digest vouches for them.
   */
  diffId?: string;
  /**
   * Size of the blob as stored; bounds how far the layer may inflate (see layer-check.ts). Set by
   * `ready()` when there is one.
   */
  compressedBytes?: number;
  /**
   * Resolves once the layer may be opened (its blob downloaded and verified), or rejects with the
   * reason it never will be; absent when it may be opened at once. The first pass awaits it before
   * it opens the layer, so a build can start on layer 0 while later layers still download.
   */
  ready?: () => Promise<void>;
  /**
   * Called once the flattener has read and verified the layer and will not open it again without
   * calling `ready()` first: after its first-pass read when the sink stores bodies early (one
   * pass), after its second-pass read otherwise. A pull without a cache deletes the blob here
   * (pull/layer-window.ts); `ready()` then fetches it again if a restart needs it.
   */
  release?: () => Promise<void>;
}

/** A synthetic entry (e.g. `/.singularity.d` files) placed over the image. */
export interface OverlayEntry {
  /** Relative path, no leading slash (leading slashes and `..` are cleaned anyway). */
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  content?: Buffer;
  linkname?: string;
  mtime: Date;
  uid: number;
  gid: number;
  /**
   * "replace" shadows whatever the image has at the path. "ifAbsent" only applies when nothing is
   * there, or when the entry is a symlink and a symlink is there (it then replaces it).
   */
  policy: "replace" | "ifAbsent";
}

export interface FlattenOptions {
  /** Most tar entries read over all layers (default 5,000,000). */
  maxEntries?: number;
  /** Most decompressed bytes read in the first pass over all layers (default 1 TiB). */
  maxTotalBytes?: number;
  /**
   * How far each layer may inflate: `max(floorBytes, ratio × compressedBytes)`, default
   * `{ ratio: 100, floorBytes: 8 GiB }` (see layer-check.ts).
   */
  inflateLimit?: InflateLimit;
  /** Longest entry name or link target, in bytes (default 4096). */
  maxPathLength?: number;
  /** Largest PAX or GNU long-name header, in bytes (default 1 MiB). */
  maxPaxHeaderBytes?: number;
  /** Layers scanned at once in the first pass (default 2). */
  scanConcurrency?: number;
  /**
   * Called after the first pass, before any output is written, with the root directory's
   * attributes (so a squashfs tool can be started with the right `-root-*` options).
   */
  onScanned?: (root: RootAttributes) => void;
  /** Called with the number of tar bytes written so far. */
  onProgress?: (bytes: number) => void;
  /**
   * With a sink that stores bodies early: the most stored content bytes the plan may leave unused
   * before the build restarts in two passes, given the bytes stored (default
   * `storedUnusedLimit`, flatten.ts).
   */
  storedUnusedLimit?: (storedBytes: number) => number;
  /** End `out` when done (default true). */
  end?: boolean;
  logger?: Logger;
}

/** Metadata of the image's root directory (not emitted as a tar entry; give it to the builder). */
export interface RootAttributes {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

export interface FlattenStats {
  layers: number;
  /** Tar entries read in the first pass. */
  entriesRead: number;
  /** Entries written (directories, files, links, …), hardlinks included. */
  entriesWritten: number;
  hardlinks: number;
  /** Decompressed bytes read in both passes. */
  bytesRead: number;
  /** Tar bytes written to the output. */
  bytesWritten: number;
  /** Layers the second pass did not need to read at all (all of them when bodies were stored early). */
  layersSkipped: number;
  /**
   * Bytes of file content stored in the first pass (by a sink that stores bodies early) that no
   * path of the final tree uses: a later layer removed or replaced them.
   */
  storedUnusedBytes: number;
  /** The single pass stored too much unused content: the output was restarted in two passes. */
  restarted: boolean;
  root: RootAttributes;
  seconds: number;
}
