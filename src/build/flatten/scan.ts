/**
 * First pass: reads one layer's tar headers (bodies skipped) with the resource limits applied, and
 * the `Budget` those limits are counted against across all layers.
 *
 * Every read error becomes a one-line `SregistryError` naming the layer: `LAYER_INVALID` for a
 * malformed tar or a broken compressed stream, `LIMIT` for an exceeded bound (decompression
 * bombs: too many entries, too many bytes, a huge PAX header or name).
 *
 * @example
 * ```ts
 * const budget = new Budget({ maxEntries: 1000 });
 * const entries = await scanLayer(layer, budget);
 * ```
 */
import type { Readable } from "node:stream";
import { SregistryError } from "../../util/errors.js";
import { displayName, type TarEntry } from "./tar-header.js";
import { TarFormatError, TarReader } from "./tar-reader.js";
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

/** Reads every header of a layer; returns the entries in archive order. */
export async function scanLayer(layer: LayerSource, budget: Budget): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const reader = new TarReader(
    {
      onEntry(entry) {
        budget.countEntry(entry);
        dropHostXattrs(entry);
        entries.push(entry);
        return false;
      },
    },
    { maxPaxHeaderBytes: budget.maxPaxHeaderBytes },
  );
  await readLayer(layer, (stream) => consume(stream, reader, (n) => budget.countScanned(n)));
  return entries;
}

async function consume(stream: Readable, reader: TarReader, count: (n: number) => void): Promise<void> {
  for await (const chunk of stream) {
    count((chunk as Buffer).length);
    reader.push(chunk as Buffer);
    if (reader.done) break;
  }
  reader.end();
}

/** Opens a layer, runs `body` over it, and maps any failure to an error naming the layer. */
export async function readLayer(
  layer: LayerSource,
  body: (stream: Readable) => Promise<void>,
): Promise<void> {
  let stream: Readable | undefined;
  try {
    stream = layer.open();
    await body(stream);
  } catch (err) {
    throw layerError(layer.digest, err);
  } finally {
    stream?.destroy();
  }
}

export function layerError(digest: string, err: unknown): Error {
  if (err instanceof SregistryError) return err;
  if (err instanceof TarFormatError) {
    return new SregistryError(`layer ${digest}: ${err.message}`, {
      code: err.kind === "limit" ? "LIMIT" : "LAYER_INVALID",
      cause: err,
    });
  }
  if (err instanceof TreeError) {
    return new SregistryError(`layer ${digest}: ${err.message}`, { code: "LAYER_INVALID", cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SregistryError(`layer ${digest} cannot be read: ${message}`, {
    code: "LAYER_INVALID",
    cause: err,
  });
}

function dropHostXattrs(entry: TarEntry): void {
  if (entry.xattrs === null) return;
  for (const name of DROPPED_XATTRS) entry.xattrs.delete(name);
  if (entry.xattrs.size === 0) entry.xattrs = null;
}
