/**
 * The output side of the flattener: writes tar headers, bodies and hardlinks to a Writable with
 * backpressure, counting bytes and entries.
 *
 * Writes are synchronous (so the tar parser's callbacks can call them); the driver awaits `drain()`
 * once per input chunk, which bounds memory to about one chunk plus the Writable's buffer. A failure
 * of the output (the squashfs tool died, EPIPE) is raised as `OutputError` so it is never blamed on
 * a layer.
 *
 * @example
 * ```ts
 * const sink = new TarSink(child.stdin);
 * sink.entry(entry, "etc/passwd");
 * sink.body(chunk);
 * sink.endBody(entry.size);
 * await sink.drain();
 * sink.finish();
 * ```
 */
import type { Writable } from "node:stream";
import { SregistryError } from "../../util/errors.js";
import type { TarEntry } from "./tar-header.js";
import type { RootAttributes } from "./types.js";
import { END_OF_ARCHIVE, encodeHeader, padding } from "./tar-writer.js";

export class OutputError extends SregistryError {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`writing the flattened tar failed: ${reason}`, { code: "IO", cause });
    this.name = "OutputError";
  }
}

/**
 * Where the flattener's entries go, in emission order: `entry(meta, path)` per path (parents
 * first), `body(chunk)`… `endBody(size)` for a file's content right after its entry, `links(meta,
 * paths)` for an inode's other paths right after its first, `drain()` between input chunks (it
 * throws if the output failed), `finish(end)` once at the end. `TarSink` serialises them into a tar
 * stream (for external tools); the native squashfs writer takes them directly (no tar round trip).
 */
export interface EntrySink {
  /** Entries written so far, hardlinks included. */
  readonly entries: number;
  readonly hardlinks: number;
  /** Bytes produced so far (for progress). */
  readonly bytes: number;
  /** `stored`: the number `storeBody` gave this file's content (no `body()` follows then). */
  entry(meta: TarEntry, path: string, stored?: number): void;
  body(chunk: Buffer): void;
  endBody(size: number): void;
  links(meta: TarEntry, paths: readonly string[]): void;
  drain(): Promise<void>;
  finish(end: boolean): Promise<void>;
  /**
   * Present when the sink can keep file contents before it knows where they go: the flattener
   * then gives every file body as it reads it in the first pass (`storeBody(size)`, `body()`…,
   * `endBody(size)`, layers in order) and never reads a layer twice. Contents that a later layer
   * deletes or replaces are stored all the same (the space they take is the price).
   */
  storeBody?(size: number): number;
  /**
   * With `storeBody`: forgets everything received so far (stored contents included) and starts
   * the output over, as if nothing had been written. The flattener calls it after the first pass,
   * before `start()`, when too much stored content went unused; it then reads the layers again.
   */
  restart?(): Promise<void>;
  /** Called once with the root's attributes after the first pass, before any `entry()`. */
  start?(root: RootAttributes): void;
}

export class TarSink implements EntrySink {
  bytes = 0;
  entries = 0;
  hardlinks = 0;
  private blocked = false;
  private failure: Error | null = null;
  private closed = false;
  private ending = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly out: Writable,
    private readonly onProgress?: (bytes: number) => void,
  ) {
    out.on("drain", () => {
      this.blocked = false;
      this.wakeUp();
    });
    out.on("error", (err: Error) => {
      this.failure ??= new OutputError(err);
      this.wakeUp();
    });
    out.on("close", () => {
      this.closed = true;
      this.wakeUp();
    });
  }

  /** Writes a header for `meta` under `path`. */
  entry(meta: TarEntry, path: string): void {
    this.write(encodeHeader({ ...meta, name: path }));
    this.entries++;
  }

  body(chunk: Buffer): void {
    this.write(chunk);
  }

  endBody(size: number): void {
    if (size % 512 !== 0) this.write(padding(size));
  }

  /** Writes hardlink entries for every path but the first, pointing at the first. */
  links(meta: TarEntry, paths: readonly string[]): void {
    for (let i = 1; i < paths.length; i++) {
      this.write(encodeHeader({ ...meta, type: "link", size: 0, linkname: paths[0]!, name: paths[i]! }));
      this.entries++;
      this.hardlinks++;
    }
  }

  /** Resolves when the output can take more; throws if it failed. */
  async drain(): Promise<void> {
    this.check();
    this.onProgress?.(this.bytes);
    while (this.blocked && !this.closed && this.failure === null) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.check();
  }

  /** Writes the end-of-archive marker and optionally ends the output. */
  async finish(end: boolean): Promise<void> {
    this.write(END_OF_ARCHIVE);
    await this.drain();
    if (!end) return;
    this.ending = true;
    await new Promise<void>((resolve, reject) => {
      this.out.end((err?: Error | null) => (err ? reject(new OutputError(err)) : resolve()));
    });
    this.check();
  }

  private write(buffer: Buffer): void {
    if (buffer.length === 0) return;
    this.bytes += buffer.length;
    if (!this.out.write(buffer)) this.blocked = true;
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed && !this.ending)
      throw new OutputError(new Error("output closed before the tar was complete"));
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
