/**
 * The native build: the flattener's entries → `SquashfsWriter` writing in place at the SIF
 * partition offset of the output file. No external program, no temporary image, no copy, and no
 * tar in between: `openNativeSink` gives the flattener an `EntrySink` that calls the writer
 * directly (the tar serialisation and re-parsing cost about a tenth of the build). `buildNative`
 * takes a tar stream instead (the same input tar2sqfs gets), for callers that have one.
 *
 * On failure or cancellation the writer's in-flight writes are waited for and the file descriptor
 * is closed (`close(err)`); the caller removes the half-written file.
 *
 * @example
 * ```ts
 * const sink = await openNativeSink({ path: sifTmp, offset: 4096 }, { compression: { algorithm: "gzip" }, root });
 * await flattenLayers(layers, overlay, () => sink);   // calls sink.finish()
 * const built = await sink.close();                    // { size, tool: "native", seconds }
 * ```
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { writeTarStream } from "../../image/squashfs/from-tar.js";
import { SquashfsWriter, type SquashfsImage } from "../../image/squashfs/writer.js";
import { SregistryError } from "../../util/errors.js";
import { silentLogger, type Logger } from "../../util/log.js";
import { OutputError, type EntrySink } from "../flatten/sink.js";
import type { TarEntry } from "../flatten/tar-header.js";
import type { RootAttributes } from "../flatten/types.js";
import type { SquashfsOutput, SquashfsResult } from "./builder.js";
import { compressionKey, type CompressionSpec } from "./compression.js";

export interface NativeOptions {
  /** gzip (default 6) or zstd (default 3) at any level, or lz4; lz4:hc is refused by the writer. */
  compression: CompressionSpec;
  /** Filesystem creation time (seconds). */
  mkfsTime?: number;
  root?: RootAttributes;
  logger?: Logger;
  signal?: AbortSignal;
  /** Called with the file content bytes received so far, at most once per `drain()`. */
  onProgress?: (bytes: number) => void;
}

/** The flattener's entries straight into the native writer; `close()` ends the build. */
export class NativeSink implements EntrySink {
  entries = 0;
  hardlinks = 0;
  bytes = 0;
  /** The first error of the image file, as raised (a full disk keeps its `ENOSPC` code). */
  failure: unknown = undefined;
  private image: SquashfsImage | null = null;
  private closed = false;
  /** Content bytes received before a `restart()` (progress never goes back). */
  private discarded = 0;
  private writer: SquashfsWriter;

  constructor(
    private readonly newWriter: () => SquashfsWriter,
    private readonly file: FileHandle,
    private readonly offset: number,
    private readonly options: NativeOptions,
    private readonly started: bigint,
  ) {
    this.writer = newWriter();
  }

  entry(meta: TarEntry, path: string, stored?: number): void {
    this.writer.entry(meta, path, stored);
    this.entries++;
  }

  /** Contents are stored as the layers are read, so the flattener reads each layer once. */
  storeBody(size: number): number {
    return this.writer.storeBody(size);
  }

  /**
   * Starts the image over (flatten.ts restarts in two passes when too much stored content went
   * unused): waits for the writes in flight, cuts the file back to the partition offset (the bytes
   * before it, the SIF head's place, are kept) and takes a fresh writer, so the image is the one a
   * build without `storeBody` gives.
   */
  async restart(): Promise<void> {
    try {
      await this.writer.drain();
      await this.writer.abort(new Error("restarted"));
      await this.file.truncate(this.offset);
    } catch (err) {
      throw this.outputError(err);
    }
    this.writer = this.newWriter();
    this.discarded += this.bytes;
    this.bytes = 0;
    this.entries = 0;
    this.hardlinks = 0;
  }

  start(root: RootAttributes): void {
    this.writer.setRoot(root);
  }

  body(chunk: Buffer): void {
    this.writer.body(chunk);
    this.bytes += chunk.length;
  }

  endBody(size: number): void {
    this.writer.endBody(size);
  }

  links(meta: TarEntry, paths: readonly string[]): void {
    this.writer.links(meta, paths);
    this.entries += paths.length - 1;
    this.hardlinks += Math.max(0, paths.length - 1);
  }

  async drain(): Promise<void> {
    this.options.onProgress?.(this.discarded + this.bytes);
    try {
      await this.writer.drain();
    } catch (err) {
      throw this.outputError(err);
    }
  }

  /** Writes the tables and the superblock (`end` is ignored: the file is closed by `close()`). */
  async finish(_end: boolean): Promise<void> {
    this.options.signal?.throwIfAborted();
    try {
      this.image = await this.writer.finish();
    } catch (err) {
      throw this.outputError(err);
    }
  }

  /**
   * A failure of the image file (a full disk, an I/O error) is the output's, never a layer's: the
   * flattener gets an `OutputError` (it would otherwise blame the layer it was reading), and the
   * original error is kept in `failure` for the caller to report.
   */
  private outputError(err: unknown): unknown {
    if (err instanceof SregistryError) return err;
    this.failure ??= err;
    return new OutputError(err);
  }

  /**
   * Closes the file. Without `failure` the image must be finished and its result is returned;
   * with one, in-flight writes are stopped and waited for first (no write may land after the close).
   */
  async close(failure?: unknown): Promise<SquashfsResult> {
    if (this.closed) throw new Error("close() called twice");
    this.closed = true;
    try {
      if (failure !== undefined || this.image === null)
        await this.writer.abort(failure ?? new Error("aborted"));
    } finally {
      await this.file.close();
    }
    if (failure !== undefined) throw failure;
    const image = this.image;
    if (image === null) throw new Error("the native image was closed before it was finished");
    (this.options.logger ?? silentLogger).debug(
      `native squashfs: ${image.size} bytes, ${image.inodes} inodes, ${image.duplicates} duplicate files`,
    );
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    return { size: image.size, tool: "native", seconds };
  }
}

/** Opens `output` for positioned writes and returns a sink that builds the image there. */
export async function openNativeSink(output: SquashfsOutput, options: NativeOptions): Promise<NativeSink> {
  const started = process.hrtime.bigint();
  const logger = options.logger ?? silentLogger;
  options.signal?.throwIfAborted();
  // Positioned writes: no O_APPEND (Linux would ignore the position), no O_TRUNC (keep the head).
  const file = await open(output.path, constants.O_RDWR | constants.O_CREAT, 0o644);
  const offset = output.offset ?? 0;
  try {
    const newWriter = (): SquashfsWriter =>
      new SquashfsWriter({
        fd: file.fd,
        offset,
        compression: compressionKey(options.compression),
        mkfsTime: options.mkfsTime ?? 0,
        ...(options.root ? { root: options.root } : {}),
        onWarning: (message) => logger.warning(message),
      });
    return new NativeSink(newWriter, file, offset, options, started);
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** Builds the image from a tar stream (what tar2sqfs would read). */
export async function buildNative(
  tar: Readable,
  output: SquashfsOutput,
  options: NativeOptions,
): Promise<SquashfsResult> {
  const sink = await openNativeSink(output, options);
  const onAbort = (): void => {
    const reason = options.signal?.reason;
    tar.destroy(reason instanceof Error ? reason : new Error("aborted"));
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await writeTarStream(tar, sink);
    await sink.finish(true);
  } catch (err) {
    tar.destroy();
    return sink.close(sink.failure ?? err);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  return sink.close();
}
