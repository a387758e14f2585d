/**
 * The native build: the flattener's tar stream → `SquashfsWriter` writing in place at the SIF
 * partition offset of the output file. No external program, no temporary image, no copy.
 *
 * On cancellation (`signal`) the tar stops being read, the writer's in-flight writes are waited for
 * and the file descriptor is closed; the caller removes the half-written file.
 *
 * @example
 * ```ts
 * const built = await buildNative(tar, { path: sifTmp, offset: 4096 }, { compression: { algorithm: "gzip" }, root });
 * built.size; // bytes of the image, padded to 4 KiB
 * ```
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { writeTarStream } from "../../image/squashfs/from-tar.js";
import { SquashfsWriter } from "../../image/squashfs/writer.js";
import { silentLogger, type Logger } from "../../util/log.js";
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
}

export async function buildNative(
  tar: Readable,
  output: SquashfsOutput,
  options: NativeOptions,
): Promise<SquashfsResult> {
  const started = process.hrtime.bigint();
  const logger = options.logger ?? silentLogger;
  options.signal?.throwIfAborted();
  // Positioned writes: no O_APPEND (Linux would ignore the position), no O_TRUNC (keep the head).
  const file = await open(output.path, constants.O_RDWR | constants.O_CREAT, 0o644);
  const writer = new SquashfsWriter({
    fd: file.fd,
    offset: output.offset ?? 0,
    compression: compressionKey(options.compression),
    mkfsTime: options.mkfsTime ?? 0,
    ...(options.root ? { root: options.root } : {}),
    onWarning: (message) => logger.warning(message),
  });
  const onAbort = (): void => {
    const reason = options.signal?.reason;
    tar.destroy(reason instanceof Error ? reason : new Error("aborted"));
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await writeTarStream(tar, writer);
    options.signal?.throwIfAborted();
    const image = await writer.finish();
    logger.debug(
      `native squashfs: ${image.size} bytes, ${image.inodes} inodes, ${image.duplicates} duplicate files`,
    );
    return { size: image.size, tool: "native", seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (err) {
    tar.destroy();
    await writer.abort(err); // no write may land after the close below
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await file.close();
  }
}
