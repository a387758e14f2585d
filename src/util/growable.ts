/**
 * Growable typed arrays: the column store behind the compact tree (one number per path or inode
 * instead of one object), so memory stays a few dozen bytes per path.
 *
 * @example
 * ```ts
 * const sizes = new GrowableFloat64();
 * const index = sizes.push(4096);
 * sizes.array[index]; // 4096
 * ```
 */

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

abstract class Growable<T extends TypedArray> {
  length = 0;
  array: T;

  constructor(capacity = 1024) {
    this.array = this.allocate(capacity);
  }

  protected abstract allocate(capacity: number): T;

  /** Appends `value` and returns its index. */
  push(value: number): number {
    if (this.length === this.array.length) this.reserve(this.length + 1);
    this.array[this.length] = value;
    return this.length++;
  }

  /** Makes room for at least `capacity` items (grows by half, so peak memory stays near 1.5×). */
  reserve(capacity: number): void {
    if (capacity <= this.array.length) return;
    const next = this.allocate(Math.max(capacity, Math.ceil(this.array.length * 1.5)));
    next.set(this.array.subarray(0, this.length) as never);
    this.array = next;
  }

  /** The used part. */
  view(): T {
    return this.array.subarray(0, this.length) as T;
  }
}

export class GrowableUint8 extends Growable<Uint8Array> {
  protected allocate(n: number): Uint8Array {
    return new Uint8Array(n);
  }
}
export class GrowableUint16 extends Growable<Uint16Array> {
  protected allocate(n: number): Uint16Array {
    return new Uint16Array(n);
  }
}
export class GrowableUint32 extends Growable<Uint32Array> {
  protected allocate(n: number): Uint32Array {
    return new Uint32Array(n);
  }
}
export class GrowableInt32 extends Growable<Int32Array> {
  protected allocate(n: number): Int32Array {
    return new Int32Array(n);
  }
}
export class GrowableFloat64 extends Growable<Float64Array> {
  protected allocate(n: number): Float64Array {
    return new Float64Array(n);
  }
}

/** A byte pool for names and link targets: strings in, (offset, length) out. */
export class BytePool {
  private buffer: Buffer;
  length = 0;

  constructor(capacity = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** Appends a binary string (one char per byte) and returns its offset. */
  add(text: string): number {
    const need = this.length + text.length;
    if (need > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(need, Math.ceil(this.buffer.length * 1.5)));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    const offset = this.length;
    this.length += this.buffer.write(text, offset, "latin1");
    return offset;
  }

  /** A view of `length` bytes at `offset` (valid until the next `add`). */
  bytes(offset: number, length: number): Buffer {
    return this.buffer.subarray(offset, offset + length);
  }

  /** The stored bytes at `offset` as a binary string (one char per byte). */
  text(offset: number, length: number): string {
    return this.buffer.toString("latin1", offset, offset + length);
  }

  /** Whether the `length` bytes at `offset` are the binary string `text`. */
  equals(offset: number, length: number, text: string): boolean {
    if (length !== text.length) return false;
    const buffer = this.buffer;
    for (let i = 0; i < length; i++) if (buffer[offset + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** Byte-wise comparison of two stored strings (the order squashfs directories need). */
  compare(a: number, aLength: number, b: number, bLength: number): number {
    return this.buffer.compare(this.buffer, b, b + bLength, a, a + aLength);
  }
}
