/**
 * Feeds a tar stream (such as the flattener's output) into the native writer: the path to use
 * the writer before the flattener can call it directly, and the same input tar2sqfs gets.
 *
 * Hardlinks: the writer needs them right after their target's entry, as the flattener writes
 * them (`TarSink.links` follows each inode's first path); a link to anything else is an error.
 *
 * @example
 * ```ts
 * const writer = new SquashfsWriter({ fd, offset, root });
 * await writeTarStream(tarReadable, writer);
 * const { size } = await writer.finish();
 * ```
 */
import type { Readable } from "node:stream";
import { SregistryError } from "../../util/errors.js";
import { displayName, type TarEntry } from "../flatten/tar-header.js";
import { TarReader } from "../flatten/tar-reader.js";
import type { EntrySink } from "../flatten/sink.js";

/** What the tar's entries are given to: the writer itself, or a sink around it. */
export type EntryTarget = Pick<EntrySink, "entry" | "body" | "endBody" | "links" | "drain">;

export async function writeTarStream(tar: Readable, writer: EntryTarget): Promise<void> {
  let group: { entry: TarEntry; paths: string[] } | null = null;
  const flushLinks = (): void => {
    if (group !== null && group.paths.length > 1) writer.links(group.entry, group.paths);
    group = null;
  };
  const reader = new TarReader({
    onEntry(entry) {
      const path = entry.name.replace(/\/+$/, "");
      if (entry.type === "link") {
        const target = entry.linkname.replace(/\/+$/, "");
        if (group === null || group.paths[0] !== target)
          throw new SregistryError(`hardlink "${displayName(path)}" does not follow its target`, {
            code: "SQUASHFS_FAILED",
          });
        group.paths.push(path);
        return false;
      }
      flushLinks();
      writer.entry(entry, path);
      group = { entry, paths: [path] };
      return entry.type === "file" && entry.size > 0;
    },
    onData: (chunk) => writer.body(chunk),
    onEntryEnd: () => writer.endBody(0),
  });
  for await (const chunk of tar) {
    reader.push(chunk as Buffer);
    await writer.drain();
  }
  reader.end();
  flushLinks();
}
