/**
 * Streams one blob into a file, hashing and counting bytes as they arrive, resuming a broken body.
 *
 * The size limit is enforced on the bytes actually received (never on Content-Length): one byte past
 * the descriptor's size and the body is destroyed. When the body breaks, `opener(written)` is asked
 * for the rest; a server that honours Range continues at that offset, one that ignores it restarts at
 * 0 and the already-written prefix is skipped (the final digest covers exactly the file's bytes, so a
 * server that sends different bytes the second time is still caught). Attempts are counted per run
 * without progress, so a slow but steadily advancing link is never given up on. A body that fails
 * with a BadSourceError (util/bad-source.ts: its source served wrong bytes or stalled, and has been
 * set aside) is not resumed: everything received is discarded (the file truncated, the hash and the
 * progress reset) and the blob is asked for again from byte 0, which goes to the next source.
 *
 * Errors: `SIZE_MISMATCH` (too many bytes), `DIGEST_MISMATCH`, `NETWORK` (retries exhausted),
 * `NO_SPACE`/`NOT_WRITABLE` (local disk). The caller owns the temp file and removes it on failure.
 *
 * @example
 * ```ts
 * const size = await downloadTo(tempPath, { digest, size: 1234 }, (offset) => fetchBlob(offset), {
 *   source: "nvcr.io/nvidia/pytorch",
 * });
 * ```
 */
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { parseDigest } from "../oci/digest.js";
import { BACKOFF, backoffDelay } from "../util/backoff.js";
import type { Descriptor } from "../oci/types.js";
import { isBadSource, refuseSource } from "../util/bad-source.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { redact } from "../util/redact.js";
import { FILE_MODE } from "./layout.js";

/** The part of a descriptor the cache needs; `size` is -1 when unknown (schema 1 manifests). */
export type BlobDescriptor = Pick<Descriptor, "digest" | "size">;

/** What an opener returns: the body and the blob offset where it really starts (0 if Range was ignored). */
export interface OpenedBody {
  body: Readable;
  offset: number;
}

/** Opens the blob starting at `offset` (sends `Range: bytes=<offset>-` when offset > 0). */
export type BlobOpener = (offset: number) => Promise<OpenedBody>;

export interface DownloadOptions {
  /**
   * Called with the number of new blob bytes each time some arrive; the deltas sum to the blob size
   * (a download that starts over from another source reports the discarded bytes as a negative delta).
   */
  onProgress?: (bytesDelta: number) => void;
  signal?: AbortSignal;
  /** Attempts in a row that bring no new bytes before giving up. Default `BACKOFF.attempts`. */
  maxAttempts?: number;
  /** Pause between attempts (tests pass a fake). Default: real timers, abortable. */
  sleep?: (ms: number) => Promise<void>;
  /** The backoff's jitter, [0, 1) (tests pass a fixed value). Default `Math.random`. */
  random?: () => number;
  /** Where the blob comes from, for error messages ("nvcr.io/nvidia/pytorch"). */
  source?: string;
}

interface Progress {
  hash: Hash;
  written: number;
  algorithm: string;
}

/** Downloads into `tempPath` (created exclusively), verifies size and digest, fsyncs; returns the size. */
export async function downloadTo(
  tempPath: string,
  descriptor: BlobDescriptor,
  opener: BlobOpener,
  options: DownloadOptions = {},
): Promise<number> {
  const { algorithm } = parseDigest(descriptor.digest);
  const file = await open(tempPath, "wx", FILE_MODE).catch((err: unknown) => {
    throw localError(err, tempPath);
  });
  try {
    const progress: Progress = { hash: createHash(algorithm), written: 0, algorithm };
    await receiveWithResume(file, tempPath, progress, descriptor, opener, options);
    const actual = `${algorithm}:${progress.hash.digest("hex")}`;
    if (actual !== descriptor.digest) {
      throw new SregistryError(`blob ${descriptor.digest} from ${where(options)} does not match its digest`, {
        code: "DIGEST_MISMATCH",
      });
    }
    await file.sync().catch((err: unknown) => {
      throw localError(err, tempPath);
    });
    return progress.written;
  } finally {
    await file.close();
  }
}

async function receiveWithResume(
  file: FileHandle,
  tempPath: string,
  progress: Progress,
  descriptor: BlobDescriptor,
  opener: BlobOpener,
  options: DownloadOptions,
): Promise<void> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? BACKOFF.attempts);
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, { signal: options.signal }));
  let fruitless = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const before = progress.written;
    try {
      const opened = await opener(progress.written);
      await copyBody(opened, file, tempPath, progress, descriptor, options);
      // An abort that arrived with the last bytes still cancels: the caller has given up.
      options.signal?.throwIfAborted();
      if (descriptor.size < 0 || progress.written === descriptor.size) return;
      throw new Error(`connection closed after ${progress.written} of ${descriptor.size} bytes`);
    } catch (err) {
      if (!isRetryable(err, options.signal)) throw err;
      if (isBadSource(err)) {
        await discardReceived(file, tempPath, progress, options);
        fruitless += 1;
        if (fruitless >= maxAttempts) throw exhausted(err, descriptor, options, maxAttempts);
        continue; // no pause: the next request goes to another source
      }
      fruitless = progress.written > before ? 1 : fruitless + 1;
      if (fruitless >= maxAttempts) throw exhausted(err, descriptor, options, maxAttempts);
      await sleep(backoffDelay(fruitless, options.random));
    }
  }
}

/**
 * Bytes gathered before one write. Socket chunks are 16–64 KiB; one `filehandle.write` per chunk
 * was 6 % of a cold pull's main thread (`node --cpu-prof`, ARCHITECTURE.md "How a pull flows").
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * Appends the new part of one response body to the file, skipping what we already have. Chunks are
 * gathered up to BATCH_BYTES and written with one `writev`; only written bytes are hashed and
 * counted, so a body that breaks resumes from exactly what the file holds.
 */
async function copyBody(
  opened: OpenedBody,
  file: FileHandle,
  tempPath: string,
  progress: Progress,
  descriptor: BlobDescriptor,
  options: DownloadOptions,
): Promise<void> {
  const { body, offset } = opened;
  let skip = progress.written - offset;
  if (skip < 0 || !Number.isInteger(offset)) {
    body.destroy();
    throw new SregistryError(
      `blob ${descriptor.digest} from ${where(options)}: server resumed at byte ${offset}, asked for ${progress.written}`,
      { code: "BAD_RANGE" },
    );
  }
  const batch = new WriteBatch(file, tempPath, progress, options);
  const onAbort = () => body.destroy(options.signal?.reason as Error);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (skip > 0) {
        const dropped = Math.min(skip, data.length);
        skip -= dropped;
        data = data.subarray(dropped);
        if (data.length === 0) continue;
      }
      if (descriptor.size >= 0 && progress.written + batch.bytes + data.length > descriptor.size) {
        // A mirror's body: set the mirror aside and start again from the next source.
        const refused = refuseSource(body, `a body longer than the blob's ${descriptor.size} bytes`);
        if (refused) throw refused;
        throw new SregistryError(
          `blob ${descriptor.digest} from ${where(options)} is larger than its size ${descriptor.size}`,
          { code: "SIZE_MISMATCH" },
        );
      }
      await batch.add(data);
    }
    await batch.flush();
  } catch (err) {
    // Keep what arrived before the failure (a resume asks for the rest), unless writing failed.
    if (!batch.failed) await batch.flush().catch(() => undefined);
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (!body.destroyed) body.destroy();
  }
}

/** Received chunks not yet written; `flush` writes them at the end of the file, then counts them. */
class WriteBatch {
  private chunks: Buffer[] = [];
  bytes = 0;
  failed = false;

  constructor(
    private readonly file: FileHandle,
    private readonly tempPath: string,
    private readonly progress: Progress,
    private readonly options: DownloadOptions,
  ) {}

  /** Reports the chunk as received at once: what is gathered is always written, or the download fails. */
  async add(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.options.onProgress?.(chunk.length);
    if (this.bytes >= BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.bytes === 0) return;
    const chunks = this.chunks;
    const bytes = this.bytes;
    this.chunks = [];
    this.bytes = 0;
    try {
      await writeAll(this.file, chunks, this.progress.written, bytes);
    } catch (err) {
      // Reported at receipt, never written: take them back (a retry receives them again).
      this.options.onProgress?.(-bytes);
      this.failed = true;
      throw localError(err, this.tempPath);
    }
    for (const chunk of chunks) this.progress.hash.update(chunk);
    this.progress.written += bytes;
  }
}

/** `writev` at `position`, continuing after a short write (a file system may write less). */
async function writeAll(file: FileHandle, chunks: Buffer[], position: number, bytes: number): Promise<void> {
  let done = (await file.writev(chunks, position)).bytesWritten;
  if (done === bytes) return;
  const rest = Buffer.concat(chunks).subarray(done);
  while (done < bytes) {
    const { bytesWritten } = await file.write(
      rest,
      done - (bytes - rest.length),
      bytes - done,
      position + done,
    );
    if (bytesWritten === 0) throw Object.assign(new Error("no progress writing the file"), { code: "EIO" });
    done += bytesWritten;
  }
}

/** Forgets every byte received so far: an empty file, a fresh hash, the progress taken back. */
async function discardReceived(
  file: FileHandle,
  tempPath: string,
  progress: Progress,
  options: DownloadOptions,
): Promise<void> {
  await file.truncate(0).catch((err: unknown) => {
    throw localError(err, tempPath);
  });
  if (progress.written > 0) options.onProgress?.(-progress.written);
  progress.hash = createHash(progress.algorithm);
  progress.written = 0;
}

/** Network trouble is retried; our own verdicts, local disk errors and cancellation are not. */
function isRetryable(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  if (err instanceof SregistryError) return false;
  return !(err instanceof Error && err.name === "AbortError");
}

function exhausted(
  err: unknown,
  descriptor: BlobDescriptor,
  options: DownloadOptions,
  attempts: number,
): SregistryError {
  const reason = err instanceof Error ? err.message : String(err);
  return new SregistryError(
    redact(
      `download of blob ${descriptor.digest} from ${where(options)} failed after ${attempts} attempts: ${reason}`,
    ),
    { code: "NETWORK", cause: err },
  );
}

function localError(err: unknown, path: string): SregistryError {
  const code = isErrnoCode(err, "ENOSPC") || isErrnoCode(err, "EDQUOT") ? "NO_SPACE" : "NOT_WRITABLE";
  const reason = err instanceof Error ? err.message : String(err);
  return new SregistryError(`cannot write blob cache file ${path}: ${reason}`, { code, cause: err });
}

function where(options: DownloadOptions): string {
  return options.source ?? "the registry";
}
