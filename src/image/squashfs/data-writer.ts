/**
 * File contents: cut into blocks, compressed in parallel, written in order; tail ends packed into
 * fragment blocks; all-zero blocks stored as holes (sparse); files whose content was stored before
 * stored once.
 *
 * Order and parallelism: every block is handed to the compressor (thread pool) as soon as it is
 * full, and a job is queued; one chain places the queued jobs strictly in order, so the layout only
 * depends on the input. Up to `maxInFlight` jobs may wait; `drain()` blocks the producer beyond
 * that, which bounds memory to about `maxInFlight` blocks. Placed blocks are gathered into writes
 * of up to WRITE_BATCH bytes, one write running while the next batch fills: a write per block
 * waited in the thread pool's queue behind the compression jobs and held the chain meanwhile.
 *
 * Duplicates (as mksquashfs does): a file's digest is known only at its end, after its blocks were
 * queued, so the end-of-file job rewinds the write position over them when the content was seen
 * before and points the file at the first copy. Tail ends are only packed once the digest is known,
 * so duplicates never reach a fragment block.
 *
 * The digest covers a kind byte per block (data / hole / tail), the data blocks' bytes and the
 * size; holes are not hashed, so a 4 GiB file of zeros costs a memcmp per block and no hashing.
 *
 * @example
 * ```ts
 * const data = new DataWriter(output, compressor, 131072, 8);
 * const file = data.beginFile(size);
 * data.write(chunk);        // as often as needed, then the file ends by itself at `size` bytes
 * await data.drain();
 * await data.finish();      // data.files.start.array[file] … are now final
 * ```
 */
import * as crypto from "node:crypto";
import { createHash, type Hash } from "node:crypto";
import { SregistryError } from "../../util/errors.js";
import type { BlockCompressor } from "./compressor.js";
import { ContentIndex } from "./dedup.js";
import { DATA_UNCOMPRESSED, NO_FRAGMENT, SUPERBLOCK_SIZE } from "./format.js";
import { GrowableFloat64, GrowableUint32 } from "../../util/growable.js";
import type { ImageOutput } from "./output.js";

/** Bytes of consecutive stored blocks written at once. */
const WRITE_BATCH = 1024 * 1024;

const KIND_DATA = Buffer.of(1);
const KIND_HOLE = Buffer.of(0);
const KIND_TAIL = Buffer.of(2);

/** Where each stored file's content is; indexed by the file number `beginFile` returned. */
export class FileTable {
  /** Position of the first data block (relative to the image start). */
  readonly start = new GrowableFloat64();
  /**
   * Index of the first block size in `blockSizes`; a file has `floor(size / blockSize)` blocks,
   * since its tail always goes to a fragment.
   */
  readonly firstBlock = new GrowableUint32();
  readonly fragment = new GrowableUint32();
  readonly fragmentOffset = new GrowableUint32();
  /** Bytes not stored because their blocks were holes (few files have any). */
  readonly sparse = new Map<number, number>();
  /** On-disk size of every data block (bit 24 = stored raw, 0 = hole), files one after another. */
  readonly blockSizes = new GrowableUint32();
}

type Job =
  | { kind: "block"; file: number; packed: Promise<Buffer | null>; raw: Buffer }
  | { kind: "hole"; file: number }
  | { kind: "fragment"; index: number; packed: Promise<Buffer | null>; raw: Buffer }
  | { kind: "end"; file: number; original: number };

interface OpenFile {
  file: number;
  size: number;
  received: number;
  block: Buffer;
  fill: number;
  /** Made at the first full block: a file that is only a tail is hashed in one call at its end. */
  hash: Hash | null;
  blocks: number;
  sparse: number;
}

export class DataWriter {
  readonly files = new FileTable();
  /** Fragment table: position and stored size of each fragment block. */
  readonly fragmentStart = new GrowableFloat64();
  readonly fragmentSize = new GrowableUint32();
  /** Current write position (relative to the image start); final after `finish()`. */
  position = SUPERBLOCK_SIZE;
  /** Files stored once for several inodes. */
  duplicates = 0;
  private readonly zero: Buffer;
  private readonly scratch: Buffer;
  /** Kind byte, tail and size of a tail-only file, hashed at once (most files are one). */
  private readonly small: Buffer;
  /** Digests of stored files; dropped by `finish()` (the rest of the build does not need them). */
  private seen: ContentIndex | null = new ContentIndex();
  private fragment: Buffer;
  private fragmentFill = 0;
  private fragments = 0;
  private open: OpenFile | null = null;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  /** Block starts of files whose first block was not written yet. */
  private readonly pendingStart = new Set<number>();
  /** Block buffers free for reuse (takeBlock / recycle). */
  private readonly spare: Buffer[] = [];
  /**
   * Stored blocks placed but not yet written, copied one after another from `batchStart`; the other
   * buffer belongs to the write in flight. Two buffers reused for the whole image: a fresh one per
   * write would be the same external-memory churn that reusing block buffers removed.
   */
  private batch: Buffer;
  private inFlight: Buffer;
  private batchStart = 0;
  private batchBytes = 0;
  /** The write of the last batch, and where the furthest write issued so far ends. */
  private lastWrite: Promise<void> = Promise.resolve();
  private issuedEnd = 0;

  constructor(
    private readonly output: ImageOutput,
    private readonly compressor: BlockCompressor,
    readonly blockSize: number,
    private readonly maxInFlight: number,
  ) {
    this.zero = Buffer.alloc(blockSize);
    this.scratch = Buffer.allocUnsafe(blockSize);
    this.small = Buffer.allocUnsafe(blockSize + 32);
    this.fragment = this.takeBlock();
    this.batch = Buffer.allocUnsafeSlow(WRITE_BATCH + blockSize);
    this.inFlight = Buffer.allocUnsafeSlow(WRITE_BATCH + blockSize);
  }

  get fragmentCount(): number {
    return this.fragments;
  }

  /** Starts a file of `size` bytes (> 0) and returns its number; it ends by itself at `size`. */
  beginFile(size: number): number {
    if (this.open !== null) throw new Error("a file is still open");
    const t = this.files;
    const file = t.start.push(this.position);
    t.firstBlock.push(t.blockSizes.length);
    t.fragment.push(NO_FRAGMENT);
    t.fragmentOffset.push(0);
    this.pendingStart.add(file);
    this.open = {
      file,
      size,
      received: 0,
      block: this.blockFor(size),
      fill: 0,
      hash: null,
      blocks: 0,
      sparse: 0,
    };
    return file;
  }

  /** True while a file is waiting for more bytes. */
  get writing(): boolean {
    return this.open !== null;
  }

  write(chunk: Buffer): void {
    const open = this.open;
    if (open === null) throw new Error("no file is open");
    if (open.received + chunk.length > open.size)
      throw new SregistryError("a file body is longer than its size", { code: "SQUASHFS_FAILED" });
    let from = 0;
    while (from < chunk.length) {
      const count = Math.min(chunk.length - from, open.block.length - open.fill);
      chunk.copy(open.block, open.fill, from, from + count);
      open.fill += count;
      open.received += count;
      from += count;
      if (open.fill === open.block.length) this.blockFull(open);
    }
  }

  /** Resolves when fewer than `maxInFlight` jobs wait; throws the first write error. */
  async drain(): Promise<void> {
    while (this.queued > this.maxInFlight && this.failure === null) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Gives up: no queued job writes any more, and this resolves once none is running, so the
   * caller may close the file descriptor without a late write landing in a reused one.
   */
  async abort(reason: unknown): Promise<void> {
    this.failure ??= reason;
    await this.chain;
    await this.lastWrite.catch(() => undefined);
  }

  /** Writes the last fragment block and waits for every queued write. */
  async finish(): Promise<void> {
    if (this.open !== null)
      throw new SregistryError("the last file body is incomplete", { code: "SQUASHFS_FAILED" });
    if (this.fragmentFill > 0) this.flushFragment();
    this.seen = null;
    await this.chain;
    if (this.failure !== null) throw this.failure;
    await this.flushBatch();
    await this.lastWrite;
  }

  private blockFull(open: OpenFile): void {
    const isLast = open.received === open.size;
    if (open.block.length === this.blockSize) {
      this.queueBlock(open, open.block);
      const rest = open.size - open.received;
      open.block = rest > 0 ? this.blockFor(rest) : open.block;
      open.fill = 0;
    }
    if (isLast) this.endFile(open);
  }

  /**
   * A buffer for the next `rest` bytes: a new one for a full block (a job keeps it until written),
   * the shared scratch buffer for a tail (copied into a fragment at the file's end). Most files are
   * tails only, so they allocate nothing.
   */
  private blockFor(rest: number): Buffer {
    return rest >= this.blockSize ? this.takeBlock() : this.scratch.subarray(0, rest);
  }

  /**
   * A block buffer, reused once its job no longer needs it (`recycle`). A fresh 128 KiB buffer per
   * block made V8 count the bytes as external memory and run a full collection every ~60 ms of a
   * pull (`--trace-gc`: 133 mark-compacts in an 8 s zstd pull, "external memory pressure").
   */
  private takeBlock(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.blockSize);
  }

  /** Returns block buffers nothing reads any more; at most `maxInFlight` + 16 are kept. */
  private recycle(buffer: Buffer): void {
    if (buffer.length === this.blockSize && this.spare.length < this.maxInFlight + 16)
      this.spare.push(buffer);
  }

  private queueBlock(open: OpenFile, block: Buffer): void {
    open.blocks++;
    open.hash ??= createHash("sha256");
    if (block.equals(this.zero)) {
      open.hash.update(KIND_HOLE);
      open.sparse += block.length;
      this.recycle(block);
      this.enqueue({ kind: "hole", file: open.file });
      return;
    }
    open.hash.update(KIND_DATA);
    open.hash.update(block);
    this.enqueue({ kind: "block", file: open.file, packed: this.compressor.compress(block), raw: block });
  }

  private endFile(open: OpenFile): void {
    this.open = null;
    const tail = open.size % this.blockSize === 0 ? null : open.block.subarray(0, open.fill);
    const t = this.files;
    if (open.sparse > 0) t.sparse.set(open.file, open.sparse);
    const original = this.seen!.findOrAdd(this.digest(open, tail), open.file);
    if (original >= 0) {
      this.duplicates++;
      t.fragment.array[open.file] = t.fragment.array[original]!;
      t.fragmentOffset.array[open.file] = t.fragmentOffset.array[original]!;
    } else if (tail !== null) {
      this.addTail(open.file, tail);
    }
    this.enqueue({ kind: "end", file: open.file, original });
  }

  /** The same bytes hashed either way: blocks (kind, data), the tail (kind, data), the size. */
  private digest(open: OpenFile, tail: Buffer | null): Buffer {
    if (open.hash === null) {
      // No full block (tail is then set): one hash call instead of a Hash object per small file.
      const small = this.small;
      small[0] = KIND_TAIL[0]!;
      tail!.copy(small, 1);
      const end = 1 + tail!.length + small.write(String(open.size), 1 + tail!.length, "latin1");
      return oneShotSha256(small.subarray(0, end));
    }
    if (tail !== null) {
      open.hash.update(KIND_TAIL);
      open.hash.update(tail);
    }
    open.hash.update(String(open.size));
    return open.hash.digest();
  }

  private addTail(file: number, tail: Buffer): void {
    if (this.fragmentFill + tail.length > this.blockSize) this.flushFragment();
    this.files.fragment.array[file] = this.fragments;
    this.files.fragmentOffset.array[file] = this.fragmentFill;
    tail.copy(this.fragment, this.fragmentFill);
    this.fragmentFill += tail.length;
  }

  private flushFragment(): void {
    const raw = this.fragment.subarray(0, this.fragmentFill);
    const index = this.fragments++;
    this.fragmentStart.push(0);
    this.fragmentSize.push(0);
    this.enqueue({ kind: "fragment", index, packed: this.compressor.compress(raw), raw });
    this.fragment = this.takeBlock();
    this.fragmentFill = 0;
  }

  private enqueue(job: Job): void {
    this.queued++;
    if ("packed" in job) job.packed.catch(() => {}); // awaited in order below
    this.chain = this.chain.then(async () => {
      try {
        if (this.failure === null) await this.run(job);
      } catch (err) {
        this.failure ??= err;
      } finally {
        this.queued--;
        const wake = this.wake;
        this.wake = null;
        wake?.();
      }
    });
  }

  /** Runs one job; jobs run one at a time, in queue order. */
  private async run(job: Job): Promise<void> {
    const t = this.files;
    switch (job.kind) {
      case "block":
      case "fragment": {
        const packed = await job.packed;
        // The compressor is done with the raw block; a block stored raw is recycled once copied.
        if (packed !== null) this.recycle(job.raw);
        const stored = packed ?? job.raw;
        const size = packed === null ? stored.length | DATA_UNCOMPRESSED : stored.length;
        const at = this.position;
        this.position += stored.length;
        if (job.kind === "block") {
          this.markStart(job.file, at);
          t.blockSizes.push(size);
        } else {
          this.fragmentStart.array[job.index] = at;
          this.fragmentSize.array[job.index] = size;
        }
        await this.place(stored, at);
        return;
      }
      case "hole":
        this.markStart(job.file, this.position);
        t.blockSizes.push(0);
        return;
      case "end":
        // A file without blocks gets the current position: deterministic, unlike the producer's.
        this.markStart(job.file, this.position);
        if (job.original >= 0) {
          // Forget this copy's blocks: rewind over them and share the first copy's.
          this.position = t.start.array[job.file]!;
          this.dropBatchFrom(this.position);
          t.blockSizes.length = t.firstBlock.array[job.file]!;
          t.start.array[job.file] = t.start.array[job.original]!;
          t.firstBlock.array[job.file] = t.firstBlock.array[job.original]!;
        }
        return;
    }
  }

  /** Copies a stored block into the batch; writes the batch when full or when `at` does not follow it. */
  private async place(stored: Buffer, at: number): Promise<void> {
    if (this.batchBytes > 0 && at !== this.batchStart + this.batchBytes) await this.flushBatch();
    if (this.batchBytes === 0) this.batchStart = at;
    stored.copy(this.batch, this.batchBytes);
    this.batchBytes += stored.length;
    this.recycle(stored);
    if (this.batchBytes >= WRITE_BATCH) await this.flushBatch();
  }

  /**
   * Forgets what the batch holds from image position `at` on: a duplicate's blocks, rewound over
   * (they are always the last placed), need not be written at all.
   */
  private dropBatchFrom(at: number): void {
    if (this.batchBytes === 0 || at >= this.batchStart + this.batchBytes) return;
    this.batchBytes = Math.max(0, at - this.batchStart);
  }

  /**
   * Starts the batch's write, then waits for the one before it: at most two run at once, and the
   * batch buffer of the finished one takes the next blocks. A batch that starts before the end of
   * an earlier write (a duplicate's blocks already written, rewound over) first waits for the
   * earlier write, so the later bytes land last.
   */
  private async flushBatch(): Promise<void> {
    if (this.batchBytes === 0) return;
    const data = this.batch.subarray(0, this.batchBytes);
    const at = this.batchStart;
    [this.batch, this.inFlight] = [this.inFlight, this.batch];
    this.batchBytes = 0;
    const previous = this.lastWrite;
    if (at < this.issuedEnd) await previous;
    this.issuedEnd = Math.max(this.issuedEnd, at + data.length);
    this.lastWrite = this.output.write(data, at);
    this.lastWrite.catch(() => undefined); // awaited by the next flush, finish() or abort()
    await previous;
  }

  private markStart(file: number, at: number): void {
    if (!this.pendingStart.has(file)) return;
    this.pendingStart.delete(file);
    this.files.start.array[file] = at;
    this.files.firstBlock.array[file] = this.files.blockSizes.length;
  }
}

/** `crypto.hash` (Node ≥ 20.12) skips making a Hash object; older Node 20 releases lack it. */
const oneShotSha256: (data: Buffer) => Buffer =
  typeof crypto.hash === "function"
    ? (data) => crypto.hash("sha256", data, "buffer")
    : (data) => createHash("sha256").update(data).digest();
