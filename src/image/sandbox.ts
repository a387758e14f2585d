/**
 * `--sandbox <dir>`: writes the flattened (already confined) tar stream as a plain directory.
 *
 * Safety, even though the flattener's output is confined already: every name is checked to be a
 * relative path without `.`/`..`; parents are created with mkdir and an existing parent that is not
 * a real directory (a symlink, a file) stops the extraction; files are created with
 * `O_CREAT|O_EXCL|O_NOFOLLOW`; hardlink targets are checked the same way. Nothing is ever written
 * through a symlink, so no entry can land outside the directory.
 *
 * Rootless like the peers (umoci --rootless, Apptainer sandboxes): ownership is applied only when
 * running as root; device nodes become empty files (one warning with the count); xattrs are not
 * set (Node has no setxattr). Directory modes and times are applied last, deepest first, so a
 * 0500 directory can still be filled.
 *
 * The caller extracts into a fresh temporary directory and renames it into place (see pull/pipeline.ts);
 * no catalog row is made for a sandbox.
 *
 * @example
 * ```ts
 * await flattenInto(input, (tar) => extractTar(tar, "/tmp/.sregistry-build-x", { logger }));
 * ```
 */
import { spawnSync } from "node:child_process";
import { constants } from "node:fs";
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  symlink,
  utimes,
  type FileHandle,
} from "node:fs/promises";
import type { Readable } from "node:stream";
import { TarReader } from "./flatten/tar-reader.js";
import { displayName, type TarEntry } from "./flatten/tar-header.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export interface ExtractOptions {
  logger: Logger;
  /** Keep ownership and create device nodes; default: running as root. */
  asRoot?: boolean;
}

export interface ExtractStats {
  entries: number;
  devicesAsFiles: number;
  xattrsSkipped: number;
}

type Op = { kind: "entry"; entry: TarEntry } | { kind: "data"; chunk: Buffer } | { kind: "end" };

interface DirMeta {
  path: Buffer;
  depth: number;
  entry: TarEntry;
}

const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export async function extractTar(
  tar: Readable,
  root: string,
  options: ExtractOptions,
): Promise<ExtractStats> {
  const extractor = new Extractor(root, options);
  const ops: Op[] = [];
  const reader = new TarReader({
    onEntry: (entry) => {
      ops.push({ kind: "entry", entry });
      return entry.type === "file";
    },
    onData: (chunk) => ops.push({ kind: "data", chunk: Buffer.from(chunk) }),
    onEntryEnd: () => ops.push({ kind: "end" }),
  });
  try {
    for await (const chunk of tar) {
      reader.push(chunk as Buffer);
      for (const op of ops.splice(0)) await extractor.apply(op);
    }
    reader.end();
    await extractor.finish();
  } finally {
    await extractor.closeOpenFile();
  }
  if (extractor.stats.devicesAsFiles > 0) {
    options.logger.warning(
      `${extractor.stats.devicesAsFiles} device node(s) written as empty files (creating devices needs root)`,
    );
  }
  if (extractor.stats.xattrsSkipped > 0) {
    options.logger.debug(`${extractor.stats.xattrsSkipped} extended attribute(s) not set in the sandbox`);
  }
  return extractor.stats;
}

class Extractor {
  readonly stats: ExtractStats = { entries: 0, devicesAsFiles: 0, xattrsSkipped: 0 };
  private readonly root: Buffer;
  private readonly asRoot: boolean;
  private readonly safeDirs = new Set<string>();
  private readonly dirs: DirMeta[] = [];
  private file: { handle: FileHandle; entry: TarEntry } | undefined;

  constructor(root: string, options: ExtractOptions) {
    this.root = Buffer.from(root);
    this.asRoot = options.asRoot ?? process.getuid?.() === 0;
  }

  async apply(op: Op): Promise<void> {
    if (op.kind === "data") {
      await this.file?.handle.write(op.chunk);
      return;
    }
    if (op.kind === "end") return this.closeFile();
    this.stats.entries++;
    if (op.entry.xattrs?.size) this.stats.xattrsSkipped += op.entry.xattrs.size;
    await this.create(op.entry);
  }

  private async create(entry: TarEntry): Promise<void> {
    const parts = components(entry.name);
    const path = await this.prepare(parts);
    switch (entry.type) {
      case "dir":
        await this.makeDir(path, parts.length, entry);
        return;
      case "file":
        this.file = { handle: await open(path, CREATE_FILE, 0o600), entry };
        return;
      case "link": {
        const target = await this.prepare(components(entry.linkname));
        const info = await lstat(target);
        if (!info.isFile()) throw unsafe(entry, "hardlink target is not a regular file");
        await link(target, path);
        return;
      }
      case "symlink":
        await symlink(Buffer.from(entry.linkname, "latin1"), path);
        if (this.asRoot) await lchown(path, entry.uid, entry.gid);
        await lutimes(path, entry.mtime, entry.mtime);
        return;
      case "fifo":
        run("mkfifo", ["-m", octal(entry.mode), path.toString()]);
        return this.finishNode(path, entry);
      case "char":
      case "block":
        if (this.asRoot) {
          const kind = entry.type === "char" ? "c" : "b";
          run("mknod", [
            "-m",
            octal(entry.mode),
            path.toString(),
            kind,
            String(entry.devmajor),
            String(entry.devminor),
          ]);
        } else {
          this.stats.devicesAsFiles++;
          await (await open(path, CREATE_FILE, 0o600)).close();
        }
        return this.finishNode(path, entry);
    }
  }

  /** Checks and creates the parents of `parts`; returns the full path of the last one. */
  private async prepare(parts: Buffer[]): Promise<Buffer> {
    let path = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      path = Buffer.concat([path, SLASH, parts[i]!]);
      const key = path.toString("latin1");
      if (this.safeDirs.has(key)) continue;
      try {
        await mkdir(path, { mode: 0o755 });
      } catch (err) {
        if (!isErrnoCode(err, "EEXIST")) throw err;
        const info = await lstat(path);
        if (!info.isDirectory()) {
          throw new SregistryError(
            `refusing to extract through ${info.isSymbolicLink() ? "the symlink" : "the non-directory"} ` +
              `${displayName(parts.slice(0, i + 1).join("/"))}`,
            { code: "UNSAFE_PATH" },
          );
        }
      }
      this.safeDirs.add(key);
    }
    return Buffer.concat([path, SLASH, parts[parts.length - 1]!]);
  }

  private async makeDir(path: Buffer, depth: number, entry: TarEntry): Promise<void> {
    try {
      await mkdir(path, { mode: 0o755 });
    } catch (err) {
      if (!isErrnoCode(err, "EEXIST") || !(await lstat(path)).isDirectory()) throw err;
    }
    this.safeDirs.add(path.toString("latin1"));
    this.dirs.push({ path, depth, entry });
  }

  private async finishNode(path: Buffer, entry: TarEntry): Promise<void> {
    if (this.asRoot) await chown(path, entry.uid, entry.gid);
    await chmod(path, entry.mode & 0o7777);
    await utimes(path, entry.mtime, entry.mtime);
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    try {
      // chown before chmod: chown clears setuid/setgid bits.
      if (this.asRoot) await file.handle.chown(file.entry.uid, file.entry.gid);
      await file.handle.chmod(file.entry.mode & 0o7777);
      await file.handle.utimes(file.entry.mtime, file.entry.mtime);
    } finally {
      await file.handle.close();
    }
  }

  async closeOpenFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close().catch(() => undefined);
  }

  /** Directory ownership, modes and times, deepest first (a read-only parent is fixed last). */
  async finish(): Promise<void> {
    this.dirs.sort((a, b) => b.depth - a.depth);
    for (const dir of this.dirs) await this.finishNode(dir.path, dir.entry);
  }
}

const SLASH = Buffer.from("/");

/** The components of a tar name, refusing anything that is not a plain relative path. */
function components(name: string): Buffer[] {
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (name.startsWith("/") || parts.length === 0 || parts.includes("..") || name.includes("\0")) {
    throw new SregistryError(`refusing to extract the unsafe name ${displayName(name)}`, {
      code: "UNSAFE_PATH",
    });
  }
  return parts.map((part) => Buffer.from(part, "latin1"));
}

function unsafe(entry: TarEntry, why: string): SregistryError {
  return new SregistryError(`refusing to extract ${displayName(entry.name)}: ${why}`, {
    code: "UNSAFE_PATH",
  });
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8);
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? result.stderr.trim();
    throw new SregistryError(`${command} ${args.join(" ")} failed: ${why}`, { code: "NOT_WRITABLE" });
  }
}
