/**
 * Positioned writes into the file that receives the image, at a base offset (for a SIF, the
 * partition's offset), so the filesystem is written in place: no temporary image, no copy.
 *
 * @example
 * ```ts
 * const out = new ImageOutput(fd, 4096);
 * await out.write(superblock, 0); // lands at byte 4096 of the file
 * ```
 */
import { fstat, ftruncate, write } from "node:fs";
import { promisify } from "node:util";

const fstatAsync = promisify(fstat);
const ftruncateAsync = promisify(ftruncate);

export class ImageOutput {
  /** End of the furthest byte written, relative to the image start. */
  highWater = 0;

  constructor(
    readonly fd: number,
    readonly base: number,
  ) {}

  /** Writes all of `data` at `position` (relative to the image start). */
  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      done += await new Promise<number>((resolve, reject) =>
        write(this.fd, data, done, data.length - done, this.base + position + done, (err, n) =>
          err ? reject(err) : resolve(n),
        ),
      );
    }
    this.highWater = Math.max(this.highWater, position + data.length);
  }

  /**
   * Drops bytes written past `end` (blocks of a duplicate file that were rewound): the file is cut
   * when nothing but ours follows the image, otherwise the stale bytes are zeroed.
   */
  async discardAfter(end: number): Promise<void> {
    if (this.highWater <= end) return;
    const { size } = await fstatAsync(this.fd);
    if (size === this.base + this.highWater) await ftruncateAsync(this.fd, this.base + end);
    else await this.write(Buffer.alloc(this.highWater - end), end);
    this.highWater = end;
  }
}
