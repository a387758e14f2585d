/**
 * Finds files whose content was stored before, by a 128-bit digest (of content and size), without an object
 * or string per file: digests live in one byte pool and an open-addressing table of indexes.
 *
 * @example
 * ```ts
 * const seen = new ContentIndex();
 * seen.findOrAdd(digest, 7); // -1: new, remembered as file 7
 * seen.findOrAdd(digest, 9); // 7: same content as file 7
 * ```
 */
import { GrowableUint32, GrowableUint8 } from "../../util/growable.js";

const DIGEST = 16;

export class ContentIndex {
  private readonly digests = new GrowableUint8(DIGEST * 1024);
  private readonly files = new GrowableUint32();
  /** Slot → entry + 1 (0 = empty); the capacity is a power of two, kept at most half full. */
  private slots = new Uint32Array(1024);

  get size(): number {
    return this.files.length;
  }

  /** Returns the file already stored with this content, or -1 after remembering `file` for it. */
  findOrAdd(digest: Uint8Array, file: number): number {
    const mask = this.slots.length - 1;
    let slot = hashOf(digest) & mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === 0) break;
      if (this.matches(entry - 1, digest)) return this.files.array[entry - 1]!;
      slot = (slot + 1) & mask;
    }
    const entry = this.files.push(file);
    this.digests.reserve((entry + 1) * DIGEST);
    this.digests.array.set(digest.subarray(0, DIGEST), entry * DIGEST);
    this.digests.length = (entry + 1) * DIGEST;
    this.slots[slot] = entry + 1;
    if (this.files.length * 2 > this.slots.length) this.grow();
    return -1;
  }

  private matches(entry: number, digest: Uint8Array): boolean {
    const stored = this.digests.array;
    const base = entry * DIGEST;
    for (let i = 0; i < DIGEST; i++) if (stored[base + i] !== digest[i]) return false;
    return true;
  }

  private grow(): void {
    const slots = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.files.length; entry++) {
      let slot = hashOf(this.digests.array.subarray(entry * DIGEST)) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

/** The digest's first four bytes: already uniformly distributed. */
function hashOf(digest: Uint8Array): number {
  return (digest[0]! | (digest[1]! << 8) | (digest[2]! << 16) | (digest[3]! << 24)) >>> 0;
}
