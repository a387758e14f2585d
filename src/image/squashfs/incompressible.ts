/**
 * Tells, cheaply, that deflate cannot shrink a block: its order-0 entropy is at least 7.99 bits per
 * byte. Such blocks (random data, much of what is already compressed) are stored raw without
 * running the codec, as btrfs skips compressing data its heuristic finds incompressible
 * (`btrfs_compress_heuristic`, fs/btrfs/compression.c, which also counts byte frequencies and their
 * Shannon entropy).
 *
 * Why: deflate spends 4–5 ms on a random 128 KiB block at every level (measured with node:zlib on
 * the benchmark machine) to produce something larger than the block, which the writer then
 * discards for the raw bytes; on an image that is half such data that was about a third of the
 * compression time. The check runs on the main thread: a look at the first 4 KiB for most blocks,
 * one pass over the bytes (0.13–0.26 ms per 128 KiB) for random-looking ones.
 *
 * Why it is safe: an order-0 entropy of H bits per byte bounds what deflate's Huffman coding of
 * literals can save to (8 − H) / 8, 0.125 % at the threshold, less than deflate's own overhead. What
 * it cannot see is repetition (LZ77 matches): a block made of one random 32 KiB piece four times
 * would be stored raw although deflate could quarter it. Files repeat whole (stored once, dedup.ts),
 * rarely inside one random-looking block. Only blocks of at least 64 KiB are judged: the empirical
 * entropy of a short random sample falls under the threshold anyway.
 *
 * @example
 * ```ts
 * looksIncompressible(crypto.randomBytes(131072)); // true
 * looksIncompressible(Buffer.alloc(131072)); // false
 * ```
 */
const THRESHOLD_BITS = 7.99;
const MIN_BYTES = 64 * 1024;
/**
 * The first 4 KiB decide most blocks at 1/32 of the cost: below 7.8 bits per byte there (random
 * bytes give ~7.95 on a sample that short) the block goes to the codec without a full count. The
 * shortcut can only say "compress": the safe answer.
 */
const PREFIX_BYTES = 4096;
const PREFIX_BITS = 7.8;

const counts = new Uint32Array(256);

export function looksIncompressible(block: Uint8Array): boolean {
  if (block.length < MIN_BYTES) return false;
  if (entropyBits(block.subarray(0, PREFIX_BYTES)) < PREFIX_BITS) return false;
  return entropyBits(block) >= THRESHOLD_BITS;
}

/** Order-0 Shannon entropy, in bits per byte. */
function entropyBits(bytes: Uint8Array): number {
  const n = bytes.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[bytes[i]!]!++;
  let entropy = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b]!;
    if (c > 0) entropy -= c * Math.log2(c / n);
  }
  return entropy / n;
}
