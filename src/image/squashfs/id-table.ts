/**
 * The uid/gid table: inodes store a 16-bit index into one list of the distinct 32-bit ids, in the
 * order they were first seen (so the same input always gives the same table).
 *
 * @example
 * ```ts
 * const ids = new IdTable();
 * ids.index(1000); // 0
 * ids.index(0);    // 1
 * ids.index(1000); // 0
 * ids.encode();    // 8 bytes: 1000, 0
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import { MAX_IDS } from "./format.js";

export class IdTable {
  private readonly indexes = new Map<number, number>();
  private readonly ids: number[] = [];

  index(id: number): number {
    let index = this.indexes.get(id);
    if (index === undefined) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
        throw new SregistryError(`uid/gid ${id} does not fit squashfs's 32 bits`, {
          code: "SQUASHFS_FAILED",
        });
      if (this.ids.length === MAX_IDS)
        throw new SregistryError(`more than ${MAX_IDS} distinct uids and gids: squashfs cannot store them`, {
          code: "SQUASHFS_FAILED",
        });
      index = this.ids.length;
      this.ids.push(id);
      this.indexes.set(id, index);
    }
    return index;
  }

  /** The id at `index`. */
  id(index: number): number {
    return this.ids[index]!;
  }

  get count(): number {
    return this.ids.length;
  }

  /** The table's records: one u32 per id. */
  encode(): Buffer {
    const out = Buffer.alloc(this.ids.length * 4);
    this.ids.forEach((id, i) => out.writeUInt32LE(id, i * 4));
    return out;
  }
}
