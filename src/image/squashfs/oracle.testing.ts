/**
 * Test helpers for reading images back with independent tools and comparing what they see with
 * what was written: the expected tree of an item list, a Python walker over a mounted or
 * extracted tree (lstat, content digest, xattrs), `sqfs2tar` parsed by the tar reader, and
 * `unsquashfs -lln`. Used by tests only.
 *
 * @example
 * ```ts
 * assert.deepEqual(await viaSqfs2tar(image), expectedTree(items));
 * ```
 */
import { createHash } from "node:crypto";
import { TarReader } from "../flatten/tar-reader.js";
import type { TarEntry } from "../flatten/tar-header.js";
import type { RootAttributes } from "../flatten/types.js";
import { metaOf, runTool, type Item } from "./writer.testing.js";

const DEFAULT_ROOT: RootAttributes = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

export interface Seen {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  sha?: string;
  target?: string;
  rdev?: [number, number];
  xattrs?: Record<string, string>;
}

export interface SeenTree {
  entries: Record<string, Seen>;
  /** Hardlink groups (sorted paths), sorted. */
  groups: string[][];
}

const STORED_XATTR = /^(user|trusted|security)\./;

/** What a reader should find for `items` (implicit parents get the root's attributes). */
export function expectedTree(items: readonly Item[], root: RootAttributes = DEFAULT_ROOT): SeenTree {
  const implicit: Seen = { type: "dir", mode: root.mode, uid: root.uid, gid: root.gid, mtime: root.mtime };
  const entries: Record<string, Seen> = {};
  const groups: string[][] = [];
  for (const item of items) {
    const meta = metaOf(item);
    for (const path of [item.path, ...(item.links ?? [])]) {
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join("/");
        entries[parent] ??= implicit;
      }
    }
    const seen = seenOf(meta, item);
    for (const path of [item.path, ...(item.links ?? [])]) entries[path] = seen;
    if ((item.links ?? []).length > 0) groups.push([item.path, ...item.links!].sort());
  }
  return { entries: sortKeys(entries), groups: groups.sort() };
}

function seenOf(meta: TarEntry, item: Item): Seen {
  const seen: Seen = {
    type: meta.type,
    mode: meta.mode & 0o7777,
    uid: meta.uid,
    gid: meta.gid,
    mtime: meta.mtime,
  };
  if (meta.type === "file") {
    seen.size = meta.size;
    if (item.chunks === undefined) seen.sha = sha(Buffer.from(item.content ?? ""));
  }
  if (meta.type === "symlink") seen.target = meta.linkname;
  if (meta.type === "char" || meta.type === "block") seen.rdev = [meta.devmajor, meta.devminor];
  const xattrs = Object.entries(item.xattrs ?? {}).filter(([key]) => STORED_XATTR.test(key));
  if (xattrs.length > 0) {
    seen.xattrs = Object.fromEntries(xattrs.map(([k, v]) => [k, Buffer.from(v).toString("hex")]).sort());
  }
  return seen;
}

const WALKER = String.raw`
import errno, hashlib, json, os, stat, sys
root = os.fsencode(sys.argv[1]); limit = int(sys.argv[2]); out = {}; inodes = {}
kinds = [(stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"), (stat.S_ISCHR, "char"),
         (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket")]
for dirpath, dirs, files in os.walk(root):
    for name in dirs + files:
        p = os.path.join(dirpath, name); st = os.lstat(p); rel = os.path.relpath(p, root).decode("latin1")
        kind = next(k for test, k in kinds if test(st.st_mode))
        e = {"type": kind, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime)}
        if kind == "file":
            e["size"] = st.st_size
            if st.st_size <= limit:
                with open(p, "rb") as f: e["sha"] = hashlib.sha256(f.read()).hexdigest()
        if kind == "symlink": e["target"] = os.readlink(p).decode("latin1")
        if kind in ("char", "block"): e["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        try: names = sorted(os.listxattr(p, follow_symlinks=False)) if kind != "symlink" else []
        except OSError as err:
            # Linux answers EOPNOTSUPP for directories of a squashfs without an xattr table
            # (mksquashfs -no-xattrs images too): that means none.
            if err.errno != errno.EOPNOTSUPP: raise
            names = []
        if names: e["xattrs"] = {n: os.getxattr(p, n, follow_symlinks=False).hex() for n in names}
        out[rel] = e
        if kind != "dir": inodes.setdefault(st.st_ino, []).append(rel)
print(json.dumps({"entries": out, "groups": sorted(sorted(g) for g in inodes.values() if len(g) > 1)}))
`;

/** Walks a mounted or extracted tree; files above `hashLimit` bytes get no digest. */
export function walkTree(dir: string, hashLimit = 64 << 20, uid?: number): SeenTree {
  const tree = JSON.parse(runTool("python3", ["-c", WALKER, dir, String(hashLimit)], { uid })) as SeenTree;
  return { entries: sortKeys(tree.entries), groups: tree.groups };
}

/** Reads the image with squashfs-tools-ng's `sqfs2tar` and parses the tar. */
export function viaSqfs2tar(image: string): SeenTree {
  const tar = Buffer.from(runTool("sqfs2tar", [image]), "latin1");
  const entries: Record<string, Seen> = {};
  const links = new Map<string, string[]>();
  let current: { seen: Seen; hash: ReturnType<typeof createHash> } | null = null;
  const reader = new TarReader({
    onEntry(entry) {
      const path = entry.name.replace(/\/$/, "");
      if (entry.type === "link") {
        const target = entry.linkname.replace(/\/$/, "");
        entries[path] = entries[target]!;
        links.set(target, [...(links.get(target) ?? [target]), path]);
        return false;
      }
      const item: Item = { path, type: entry.type };
      const seen = seenOf({ ...entry, xattrs: null }, item);
      if (entry.xattrs !== null) {
        seen.xattrs = Object.fromEntries(
          [...entry.xattrs].map(([k, v]) => [k, v.toString("hex")] as [string, string]).sort(),
        );
      }
      entries[path] = seen;
      if (entry.type !== "file") return false;
      current = { seen, hash: createHash("sha256") };
      return true;
    },
    onData: (chunk) => current!.hash.update(chunk),
    onEntryEnd() {
      current!.seen.sha = current!.hash.digest("hex");
      current = null;
    },
  });
  reader.push(tar);
  reader.end();
  const groups = [...links.values()].map((g) => g.sort()).sort();
  return { entries: sortKeys(entries), groups };
}

/** `unsquashfs -lln` as path → "mode-string owner size-or-device [-> target]". */
export function unsquashfsListing(image: string, offset = 0): Map<string, string> {
  const args = ["-lln", ...(offset > 0 ? ["-o", String(offset)] : []), image];
  const lines = runTool("unsquashfs", args).split("\n");
  const listing = new Map<string, string>();
  for (const line of lines) {
    const match = /^(\S{10}) (\S+)\s+(\d+|\d+,\s*\d+) \S+ \S+ squashfs-root(?:\/(.*?))?(?: -> (.*))?$/.exec(
      line,
    );
    if (match === null || match[4] === undefined) continue;
    const [, mode, owner, size, path, target] = match;
    // A directory's size is its listing's, which differs between writers: not compared.
    const shown = mode!.startsWith("d") ? "-" : size!.replace(/\s/g, "");
    listing.set(path!, `${mode} ${owner} ${shown}${target === undefined ? "" : ` -> ${target}`}`);
  }
  return listing;
}

/** The listing line `unsquashfs -lln` should print for an expected entry. */
export function listingLine(seen: Seen): string {
  const letter: Record<string, string> = {
    dir: "d",
    file: "-",
    symlink: "l",
    char: "c",
    block: "b",
    fifo: "p",
    socket: "s",
  };
  const size =
    seen.type === "dir"
      ? "-"
      : seen.rdev !== undefined
        ? seen.rdev.join(",")
        : String(seen.size ?? seen.target?.length ?? 0);
  const target = seen.target === undefined ? "" : ` -> ${seen.target}`;
  return `${letter[seen.type]}${modeString(seen.mode)} ${seen.uid}/${seen.gid} ${size}${target}`;
}

function modeString(mode: number): string {
  const bits = "rwxrwxrwx";
  let out = "";
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : "-";
  const special = (index: number, flag: number, lower: string, upper: string): void => {
    if (mode & flag) out = out.slice(0, index) + (out[index] === "x" ? lower : upper) + out.slice(index + 1);
  };
  special(2, 0o4000, "s", "S");
  special(5, 0o2000, "s", "S");
  special(8, 0o1000, "t", "T");
  return out;
}

export function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
