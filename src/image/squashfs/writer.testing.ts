/**
 * Test helpers: a compact way to describe image entries, and to feed them — with the exact calls
 * the flattener makes — to the native writer or to the flattener's tar sink (for tar2sqfs, the
 * oracle). Used by tests only.
 *
 * @example
 * ```ts
 * const items: Item[] = [{ path: "etc", type: "dir" }, { path: "etc/hostname", content: "box\n" }];
 * await writeImage(items, "/tmp/a.sqfs");
 * await writeTar(items, "/tmp/a.tar");
 * ```
 */
import { spawnSync } from "node:child_process";
import { closeSync, createWriteStream, openSync, writeSync } from "node:fs";
import { TarSink } from "../flatten/sink.js";
import type { TarEntry } from "../flatten/tar-header.js";
import {
  SquashfsWriter,
  type SquashfsImage,
  type SquashfsWriterOptions,
  type WriterEntry,
} from "./writer.js";

export interface Item {
  path: string;
  type?: WriterEntry["type"];
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  content?: string | Buffer;
  /** Generated content (e.g. zeros) instead of `content`; `size` must then be given. */
  chunks?: () => Iterable<Buffer>;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Buffer>;
  /** Other paths of the same inode (hardlinks). */
  links?: string[];
}

/** The calls both sinks share. */
interface EntrySink {
  entry(meta: TarEntry, path: string): void;
  body(chunk: Buffer): void;
  endBody(size: number): void;
  links(meta: TarEntry, paths: readonly string[]): void;
  drain(): Promise<void>;
}

export function metaOf(item: Item): TarEntry {
  const type = item.type ?? "file";
  const content = typeof item.content === "string" ? Buffer.from(item.content) : item.content;
  return {
    name: item.path,
    type: type as TarEntry["type"],
    mode: item.mode ?? (type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
    uid: item.uid ?? 0,
    gid: item.gid ?? 0,
    size: type === "file" ? (item.size ?? content?.length ?? 0) : 0,
    mtime: item.mtime ?? 1_600_000_000,
    linkname: item.linkname ?? "",
    uname: "",
    gname: "",
    devmajor: item.devmajor ?? 0,
    devminor: item.devminor ?? 0,
    xattrs:
      item.xattrs === undefined
        ? null
        : new Map(
            Object.entries(item.xattrs).map(([k, v]) => [k, typeof v === "string" ? Buffer.from(v) : v]),
          ),
  };
}

export async function feed(sink: EntrySink, items: readonly Item[]): Promise<void> {
  for (const item of items) {
    const meta = metaOf(item);
    sink.entry(meta, item.path);
    if (meta.type === "file") {
      if (item.chunks !== undefined) {
        for (const chunk of item.chunks()) {
          sink.body(chunk);
          await sink.drain();
        }
      } else if (item.content !== undefined) {
        sink.body(typeof item.content === "string" ? Buffer.from(item.content) : item.content);
      }
      sink.endBody(meta.size);
    }
    sink.links(meta, [item.path, ...(item.links ?? [])]);
    await sink.drain();
  }
}

/** Writes the items as a squashfs image at `offset` of `path` (created; `prefix` bytes before). */
export async function writeImage(
  items: readonly Item[],
  path: string,
  options: Omit<SquashfsWriterOptions, "fd"> & { prefix?: Buffer } = {},
): Promise<SquashfsImage> {
  const fd = openSync(path, "w+");
  try {
    if (options.prefix !== undefined) writeSync(fd, options.prefix, 0, options.prefix.length, 0);
    const writer = new SquashfsWriter({ ...options, fd });
    await feed(writer as unknown as EntrySink, items);
    return await writer.finish();
  } finally {
    closeSync(fd);
  }
}

/** Writes the items as the flattener's tar stream (what tar2sqfs would be fed). */
export async function writeTar(items: readonly Item[], path: string): Promise<void> {
  const out = createWriteStream(path);
  const sink = new TarSink(out);
  await feed(sink, items);
  await sink.finish(true);
}

/** Runs a command; returns stdout, throws with stderr on failure. */
export function runTool(
  cmd: string,
  args: string[],
  options: { allowStatus?: number[]; uid?: number; env?: NodeJS.ProcessEnv } = {},
): string {
  const result = spawnSync(cmd, args, {
    encoding: "buffer",
    maxBuffer: 1 << 30,
    uid: options.uid,
    gid: options.uid,
    env: options.env,
  });
  const status = result.status ?? 128;
  if (result.error !== undefined) throw result.error;
  if (status !== 0 && !(options.allowStatus ?? []).includes(status)) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${status}: ${result.stderr.toString()}${result.stdout.toString()}`,
    );
  }
  return result.stdout.toString("latin1");
}

/** Whether a command exists on PATH. */
export function hasTool(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}
