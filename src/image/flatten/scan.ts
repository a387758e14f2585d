/**
 * First pass: reads one layer's tar headers (bodies skipped) with the resource limits applied, and
 * the `Budget` those limits are counted against across all layers.
 *
 * Every read error becomes a one-line `SregistryError` naming the layer ("layer 2 of 5 (sha256:…)"):
 * `LAYER_INVALID` for a malformed tar or a broken compressed stream, `LIMIT` for an exceeded bound
 * (decompression bombs: too many entries, a layer inflating past its bound (layer-check.ts), too
 * many bytes over all layers, a huge PAX header or name), `DIGEST_MISMATCH` when the decompressed
 * tar does not hash to the layer's diff_id. A layer with a diff_id is read to its very end (the
 * digest covers the padding after the end-of-archive marker); one without stops at the marker.
 *
 * @example
 * ```ts
 * const budget = new Budget({ maxEntries: 1000 });
 * await scanLayer(layer, budget, { index: 0, count: 1 }, (entry, index) => tree.apply(entry, { layer: 0, index }));
 * ```
 */
import type { Readable } from "node:stream";
import { SregistryError } from "../../util/errors.js";
import {
  DEFAULT_INFLATE_LIMIT,
  describeLayer,
  LayerCheck,
  type InflateLimit,
  type LayerPosition,
} from "./layer-check.js";
import { displayName, type TarEntry } from "./tar-header.js";
import { TarFormatError, TarReader } from "./tar-reader.js";
import type { EntrySink } from "./sink.js";
import { TreeError } from "./tree.js";
import type { FlattenOptions, LayerSource } from "./types.js";

const TIB = 1024 ** 4;
/** xattrs that describe the machine the layer was built on, never the image (as umoci). */
const DROPPED_XATTRS = new Set(["security.selinux"]);

export class Budget {
  readonly maxEntries: number;
  readonly maxTotalBytes: number;
  readonly maxPathLength: number;
  readonly maxPaxHeaderBytes: number;
  readonly inflateLimit: InflateLimit;
  entries = 0;
  /** Decompressed bytes read (both passes). */
  bytesRead = 0;
  /** Decompressed bytes read in the first pass (the bound applies to this). */
  scannedBytes = 0;
  /** Sum of the file sizes announced by headers (catches bombs before inflating them). */
  declaredBytes = 0;

  constructor(options: FlattenOptions = {}) {
    this.maxEntries = options.maxEntries ?? 5_000_000;
    this.maxTotalBytes = options.maxTotalBytes ?? TIB;
    this.maxPathLength = options.maxPathLength ?? 4096;
    this.maxPaxHeaderBytes = options.maxPaxHeaderBytes ?? 1024 * 1024;
    this.inflateLimit = options.inflateLimit ?? DEFAULT_INFLATE_LIMIT;
  }

  countEntry(entry: TarEntry): void {
    if (++this.entries > this.maxEntries) {
      throw new TarFormatError(`more than ${this.maxEntries} tar entries in the image`, "limit");
    }
    if (entry.name.length > this.maxPathLength || entry.linkname.length > this.maxPathLength) {
      throw new TarFormatError(
        `entry name or link target longer than ${this.maxPathLength} bytes: ${displayName(entry.name.slice(0, 80))}…`,
        "limit",
      );
    }
    this.declaredBytes += entry.size;
    if (this.declaredBytes > this.maxTotalBytes) this.tooBig();
  }

  countScanned(bytes: number): void {
    this.bytesRead += bytes;
    this.scannedBytes += bytes;
    if (this.scannedBytes > this.maxTotalBytes) this.tooBig();
  }

  private tooBig(): never {
    throw new TarFormatError(`image expands to more than ${this.maxTotalBytes} bytes`, "limit");
  }
}

/** Where the first pass puts file bodies when the output keeps them early (sink.ts `storeBody`). */
export type BodyStore = Required<Pick<EntrySink, "storeBody" | "body" | "endBody" | "drain">>;

/** With a body store: for each entry of a layer the number its stored body got (or -1), and their bytes. */
export interface ScannedLayer {
  stored: number[] | null;
  storedBytes: number;
}

/**
 * Reads every header of a layer (and verifies its diff_id), giving each entry to `onEntry` with
 * its index in archive order as it is read (an error it throws stops the read and is reported
 * as the layer's). With `store`, every file body is given to it as it is read (see sink.ts
 * `storeBody`). Waits for `layer.ready()` first.
 */
export async function scanLayer(
  layer: LayerSource,
  budget: Budget,
  position: LayerPosition,
  onEntry: (entry: TarEntry, index: number) => void,
  store?: BodyStore,
): Promise<ScannedLayer> {
  // Not before the layer is verified (downloaded and digest-checked): see LayerSource.ready.
  await layer.ready?.();
  let count = 0;
  let storedBytes = 0;
  const stored: number[] | null = store ? [] : null;
  const check = new LayerCheck(layer, position, budget.inflateLimit, true);
  let declared = 0;
  const reader = new TarReader(
    {
      onEntry(entry) {
        budget.countEntry(entry);
        declared += entry.size;
        check.checkDeclared(declared);
        dropHostXattrs(entry);
        onEntry(entry, count++);
        if (store === undefined || stored === null) return false;
        const storing = entry.type === "file" && entry.size > 0;
        stored.push(storing ? store.storeBody(entry.size) : -1);
        if (storing) storedBytes += entry.size;
        return storing;
      },
      ...(store ? { onData: (chunk: Buffer) => store.body(chunk), onEntryEnd: () => store.endBody(0) } : {}),
    },
    { maxPaxHeaderBytes: budget.maxPaxHeaderBytes },
  );
  await readLayer(layer, position, async (stream) => {
    for await (const chunk of stream) {
      check.update(chunk as Buffer);
      budget.countScanned((chunk as Buffer).length);
      reader.push(chunk as Buffer);
      if (store) await store.drain();
      if (reader.done && !check.hashing) break;
    }
    reader.end();
    check.verify();
  });
  return { stored, storedBytes };
}

/** Opens a layer, runs `body` over it, and maps any failure to an error naming the layer. */
export async function readLayer(
  layer: LayerSource,
  position: LayerPosition,
  body: (stream: Readable) => Promise<void>,
): Promise<void> {
  let stream: Readable | undefined;
  try {
    stream = layer.open();
    await body(stream);
  } catch (err) {
    throw layerError(describeLayer(layer, position), err);
  } finally {
    stream?.destroy();
  }
}

/** Maps a read or tree error to a one-line `SregistryError` starting with `layer` ("layer 2 of 5 (…)"). */
export function layerError(layer: string, err: unknown): Error {
  if (err instanceof SregistryError) return err;
  if (err instanceof TarFormatError) {
    return new SregistryError(`${layer}: ${err.message}`, {
      code: err.kind === "limit" ? "LIMIT" : "LAYER_INVALID",
      cause: err,
    });
  }
  if (err instanceof TreeError) {
    return new SregistryError(`${layer}: ${err.message}`, { code: "LAYER_INVALID", cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SregistryError(`${layer} cannot be read: ${message}`, {
    code: "LAYER_INVALID",
    cause: err,
  });
}

function dropHostXattrs(entry: TarEntry): void {
  if (entry.xattrs === null) return;
  for (const name of DROPPED_XATTRS) entry.xattrs.delete(name);
  if (entry.xattrs.size === 0) entry.xattrs = null;
}
