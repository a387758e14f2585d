/**
 * The in-memory tree of the final image: applying tar entries layer by layer with umoci's
 * semantics, holding only metadata and a pointer (layer, entry index) to each file body.
 *
 * Rules (see umoci `oci/layer/tar_extract.go`):
 * - Names are cleaned lexically; the parent directory is then resolved like SecureJoin: symlinks
 *   planted by earlier entries are followed but clamped inside the root (`x → /` or `x → ../..`
 *   followed by `x/etc/passwd` lands on `etc/passwd` of the image, never outside); the final
 *   component is never followed. More than 255 symlink hops is an error (ELOOP).
 * - Missing parents are created as implicit directories (0755, 0:0); a non-directory parent is
 *   replaced by one (umoci would fail on that; Docker replaces).
 * - An entry replaces whatever is at its path, unless both are directories (then only the
 *   directory's metadata changes). The root can only ever be a directory.
 * - Whiteouts `.wh.<name>` and opaque markers `.wh..wh..opq` remove lower content except paths the
 *   current layer already wrote or is an ancestor of (umoci's `upperPaths`). Whiteouts of missing
 *   paths are ignored; `.wh.`, `.wh..` and `.wh...` are errors.
 * - Hardlinks resolve their target's parent the same way (final component not followed) and share
 *   the target's inode; the target must exist and not be a directory. Because a link shares the
 *   inode, removing or replacing the original later keeps the content alive under the link.
 *
 * Storage: no object per path. A path is a row of typed-array columns (parent, first/last child,
 * siblings, name, `upper`, inode), its name bytes sit in one byte pool, and children are found
 * through one open-addressing hash table keyed by (parent, name); children lists are linked rows
 * that keep insertion order (as a `Map` did, which the emission order and so the image bytes
 * follow). Inodes are rows of `InodeTable` (inodes.ts). About 110 bytes per path with its inode, name
 * and growth slack (ARCHITECTURE.md, flattening).
 *
 * @example
 * ```ts
 * const tree = new FlatTree();
 * tree.startLayer(0);
 * tree.apply(entry, { layer: 0, index: 0 });
 * for (let child = tree.firstChild(ROOT); child !== NONE; child = tree.nextSibling(child))
 *   console.log(tree.name(child));
 * ```
 */
import { BytePool, GrowableInt32, GrowableUint32 } from "../../util/growable.js";
import { hashName, InodeTable, type BodySource } from "./inodes.js";
import { cleanComponents } from "./paths.js";
import { displayName, type TarEntry } from "./tar-header.js";

export type { BodySource } from "./inodes.js";

/** A structural problem of a layer (an invalid entry); the flattener adds the layer digest. */
export class TreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TreeError";
  }
}

/** No node (an empty link in the columns). */
export const NONE = 0xffffffff;
/** The root directory's node. */
export const ROOT = 0;

const MAX_SYMLINK_HOPS = 255;
const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
/** Hash slot states (node numbers never reach them). */
const EMPTY = 0xffffffff;
const DELETED = 0xfffffffe;

export function directoryEntry(mtime: number): TarEntry {
  return {
    name: "",
    type: "dir",
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime,
    linkname: "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: null,
  };
}

export class FlatTree {
  readonly inodes = new InodeTable();
  // One row per node (path); removed nodes keep their rows, unlinked.
  private readonly parents = new GrowableUint32();
  private readonly firsts = new GrowableUint32();
  private lasts = new GrowableUint32();
  private readonly nexts = new GrowableUint32();
  private prevs = new GrowableUint32();
  private readonly nameStarts = new GrowableUint32();
  private readonly nameLengths = new GrowableUint32();
  private nameHashes = new GrowableUint32();
  /** Index of the last layer that wrote this path or a descendant (umoci's upperPaths). */
  private uppers = new GrowableInt32();
  private readonly inodeOf = new GrowableUint32();
  private readonly names = new BytePool();
  /** (parent, name) → node, open addressing with linear probing; `filled` counts tombstones too. */
  private slots = new Uint32Array(1 << 12).fill(EMPTY);
  private filled = 0;
  private layer = -1;
  private sealed = false;
  /** Called with a message when an entry is accepted with a repair (e.g. a file parent replaced). */
  onWarning: (message: string) => void = () => {};

  constructor() {
    this.newNode("", this.inodes.add(directoryEntry(0)), -1);
  }

  get nodeCount(): number {
    return this.parents.length;
  }

  startLayer(layer: number): void {
    if (this.sealed) throw new Error("the tree is sealed");
    this.layer = layer;
  }

  /**
   * Ends the changes: drops what only changing the tree needs (the child index, sibling back
   * links, last children, `upper`), about a third of its memory, before the entries are emitted.
   * Reading (children in order, names, paths, inodes) still works; `apply` and `lookup` do not.
   */
  seal(): void {
    this.sealed = true;
    this.layer = -1;
    this.slots = new Uint32Array(0);
    this.prevs = new GrowableUint32(0);
    this.lasts = new GrowableUint32(0);
    this.nameHashes = new GrowableUint32(0);
    this.uppers = new GrowableInt32(0);
  }

  /** The root directory's metadata. */
  rootEntry(): TarEntry {
    return this.inodes.entry(this.inodeOf.array[ROOT]!, "");
  }

  firstChild(node: number): number {
    return this.firsts.array[node]!;
  }

  nextSibling(node: number): number {
    return this.nexts.array[node]!;
  }

  parent(node: number): number {
    return this.parents.array[node]!;
  }

  name(node: number): string {
    return this.names.text(this.nameStarts.array[node]!, this.nameLengths.array[node]!);
  }

  inode(node: number): number {
    return this.inodeOf.array[node]!;
  }

  isDir(node: number): boolean {
    return this.inodes.type(this.inodeOf.array[node]!) === "dir";
  }

  /** The path of `node` from the root, no leading slash ("" for the root). */
  path(node: number): string {
    const parts: string[] = [];
    for (let at = node; at !== ROOT; at = this.parents.array[at]!) parts.push(this.name(at));
    return parts.reverse().join("/");
  }

  /** Applies one tar entry of the current layer. */
  apply(entry: TarEntry, source: BodySource): void {
    const components = cleanComponents(entry.name);
    const base = components.pop();
    if (base === undefined) return this.applyRoot(entry);
    if (base.startsWith(WHITEOUT)) return this.whiteout(components, base);
    const stack = this.resolveDir(components, true, entry.mtime)!;
    const parent = stack[stack.length - 1]!;
    const existing = this.child(parent, base);
    if (entry.type === "dir" && existing !== NONE && this.isDir(existing)) {
      this.inodeOf.array[existing] = this.inodes.add(entry);
      this.markUpper(stack, existing);
      return;
    }
    if (existing !== NONE) this.unlink(existing);
    const node = this.createNode(entry, source, base);
    this.append(parent, node);
    this.markUpper(stack, node);
  }

  /**
   * Applies a synthetic entry; with `ifAbsent` only when nothing is at the path, or when both the
   * entry and what is there are symlinks (then the entry replaces the symlink).
   */
  applySynthetic(entry: TarEntry, source: BodySource, ifAbsent: boolean): boolean {
    if (ifAbsent) {
      const existing = this.lookup(cleanComponents(entry.name));
      const bothSymlinks = entry.type === "symlink" && existing !== NONE && this.isSymlink(existing);
      if (existing !== NONE && !bothSymlinks) return false;
    }
    this.apply(entry, source);
    return true;
  }

  /** The node at a path, resolving parents through symlinks (final component not followed), or NONE. */
  lookup(components: string[]): number {
    if (components.length === 0) return ROOT;
    const stack = this.resolveDir(components.slice(0, -1), false, 0);
    if (stack === null) return NONE;
    return this.child(stack[stack.length - 1]!, components[components.length - 1]!);
  }

  private applyRoot(entry: TarEntry): void {
    if (entry.type !== "dir") {
      throw new TreeError(`entry ${quote(entry.name)} would change the type of the root directory`);
    }
    this.inodeOf.array[ROOT] = this.inodes.add(entry);
    this.uppers.array[ROOT] = this.layer;
  }

  private createNode(entry: TarEntry, source: BodySource, name: string): number {
    if (entry.type === "dir") return this.newNode(name, this.inodes.add(entry), this.layer);
    if (entry.type === "link") return this.newNode(name, this.linkTarget(entry), this.layer);
    return this.newNode(name, this.inodes.add(entry, source), this.layer);
  }

  private linkTarget(entry: TarEntry): number {
    const target = cleanComponents(entry.linkname);
    const node = target.length === 0 ? ROOT : this.lookup(target);
    if (node === NONE) {
      throw new TreeError(`hardlink ${quote(entry.name)} points to missing ${quote(entry.linkname)}`);
    }
    if (this.isDir(node)) {
      throw new TreeError(`hardlink ${quote(entry.name)} points to directory ${quote(entry.linkname)}`);
    }
    return this.inodeOf.array[node]!;
  }

  private whiteout(dir: string[], base: string): void {
    const stack = this.resolveDir(dir, false, 0);
    if (base === OPAQUE) {
      if (stack === null) return;
      this.removeLowerChildren(stack[stack.length - 1]!);
      return;
    }
    const name = base.slice(WHITEOUT.length);
    if (name === "" || name === "." || name === "..") {
      throw new TreeError(`invalid whiteout entry ${quote([...dir, base].join("/"))}`);
    }
    if (stack === null) return;
    const child = this.child(stack[stack.length - 1]!, name);
    if (child !== NONE) this.removeLower(child);
  }

  /** Removes `node` unless the current layer wrote it (then recurses into its children). */
  private removeLower(node: number): void {
    if (this.uppers.array[node] !== this.layer) {
      this.unlink(node);
      return;
    }
    if (this.isDir(node)) this.removeLowerChildren(node);
  }

  /** `removeLower` on every child of `dir`, in order (a removal never touches a later sibling). */
  private removeLowerChildren(dir: number): void {
    for (let child = this.firsts.array[dir]!; child !== NONE;) {
      const next = this.nexts.array[child]!;
      this.removeLower(child);
      child = next;
    }
  }

  private markUpper(stack: number[], node: number): void {
    const uppers = this.uppers.array;
    uppers[node] = this.layer;
    for (let i = stack.length - 1; i >= 0 && uppers[stack[i]!] !== this.layer; i--) {
      uppers[stack[i]!] = this.layer;
    }
  }

  /**
   * Resolves a directory path inside the root like SecureJoin, returning the stack of directories
   * from the root down. With `create`, missing directories are made (implicit, 0755 root-owned)
   * and non-directories in the way are replaced; without, it returns null where one is missing.
   */
  resolveDir(components: readonly string[], create: boolean, mtime: number): number[] | null {
    const stack: number[] = [ROOT];
    let queue = components as string[];
    let hops = 0;
    for (let i = 0; i < queue.length; i++) {
      const part = queue[i]!;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const top = stack[stack.length - 1]!;
      const child = this.child(top, part);
      if (child !== NONE && this.isDir(child)) {
        stack.push(child);
      } else if (child !== NONE && this.isSymlink(child)) {
        if (++hops > MAX_SYMLINK_HOPS)
          throw new TreeError(`too many levels of symbolic links at ${quote(part)}`);
        const target = this.inodes.linkname(this.inodeOf.array[child]!);
        if (target.startsWith("/")) stack.length = 1;
        queue = [...target.split("/"), ...queue.slice(i + 1)];
        i = -1;
      } else {
        if (!create) return null;
        const dir = this.newNode(part, this.inodes.add(directoryEntry(mtime)), -1);
        if (child !== NONE) {
          this.onWarning(`replacing non-directory ${quote(part)} with a directory`);
          this.replace(child, dir); // keeps the place among its siblings, as Map.set did
        } else {
          this.append(top, dir);
        }
        stack.push(dir);
      }
    }
    return stack;
  }

  private isSymlink(node: number): boolean {
    return this.inodes.type(this.inodeOf.array[node]!) === "symlink";
  }

  private newNode(name: string, inode: number, upper: number): number {
    const node = this.parents.push(NONE);
    this.firsts.push(NONE);
    this.lasts.push(NONE);
    this.nexts.push(NONE);
    this.prevs.push(NONE);
    this.nameStarts.push(this.names.add(name));
    this.nameLengths.push(name.length);
    this.nameHashes.push(hashName(name));
    this.uppers.push(upper);
    this.inodeOf.push(inode);
    return node;
  }

  /** The child of `parent` named `name`, or NONE. */
  private child(parent: number, name: string): number {
    const hash = hashName(name);
    const mask = this.slots.length - 1;
    for (let slot = slotOf(parent, hash, mask); ; slot = (slot + 1) & mask) {
      const node = this.slots[slot]!;
      if (node === EMPTY) return NONE;
      if (
        node !== DELETED &&
        this.parents.array[node] === parent &&
        this.nameHashes.array[node] === hash &&
        this.names.equals(this.nameStarts.array[node]!, this.nameLengths.array[node]!, name)
      )
        return node;
    }
  }

  /** Makes `node` the last child of `parent`. */
  private append(parent: number, node: number): void {
    const last = this.lasts.array[parent]!;
    this.parents.array[node] = parent;
    this.prevs.array[node] = last;
    this.nexts.array[node] = NONE;
    if (last === NONE) this.firsts.array[parent] = node;
    else this.nexts.array[last] = node;
    this.lasts.array[parent] = node;
    this.index(node);
  }

  /** Puts `node` where `old` is among its siblings; `old` is removed. */
  private replace(old: number, node: number): void {
    const parent = this.parents.array[old]!;
    const prev = this.prevs.array[old]!;
    const next = this.nexts.array[old]!;
    this.unindex(old);
    this.parents.array[node] = parent;
    this.prevs.array[node] = prev;
    this.nexts.array[node] = next;
    if (prev === NONE) this.firsts.array[parent] = node;
    else this.nexts.array[prev] = node;
    if (next === NONE) this.lasts.array[parent] = node;
    else this.prevs.array[next] = node;
    this.parents.array[old] = NONE;
    this.index(node);
  }

  /** Removes `node` (and so its subtree, which nothing reaches any more) from its parent. */
  private unlink(node: number): void {
    const parent = this.parents.array[node]!;
    const prev = this.prevs.array[node]!;
    const next = this.nexts.array[node]!;
    this.unindex(node);
    if (prev === NONE) this.firsts.array[parent] = next;
    else this.nexts.array[prev] = next;
    if (next === NONE) this.lasts.array[parent] = prev;
    else this.prevs.array[next] = prev;
    this.parents.array[node] = NONE;
  }

  private index(node: number): void {
    if ((this.filled + 1) * 2 > this.slots.length) this.rehash();
    const mask = this.slots.length - 1;
    let slot = slotOf(this.parents.array[node]!, this.nameHashes.array[node]!, mask);
    while (this.slots[slot] !== EMPTY && this.slots[slot] !== DELETED) slot = (slot + 1) & mask;
    if (this.slots[slot] === EMPTY) this.filled++;
    this.slots[slot] = node;
  }

  private unindex(node: number): void {
    const mask = this.slots.length - 1;
    let slot = slotOf(this.parents.array[node]!, this.nameHashes.array[node]!, mask);
    while (this.slots[slot] !== node) slot = (slot + 1) & mask;
    this.slots[slot] = DELETED;
  }

  /** Rebuilds the table without tombstones, doubling it when more than a quarter is live. */
  private rehash(): void {
    const old = this.slots;
    let live = 0;
    for (const node of old) if (node !== EMPTY && node !== DELETED) live++;
    const size = (live + 1) * 4 > old.length ? old.length * 2 : old.length;
    this.slots = new Uint32Array(size).fill(EMPTY);
    this.filled = 0;
    const mask = size - 1;
    for (const node of old) {
      if (node === EMPTY || node === DELETED) continue;
      let slot = slotOf(this.parents.array[node]!, this.nameHashes.array[node]!, mask);
      while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.slots[slot] = node;
      this.filled++;
    }
  }
}

function slotOf(parent: number, hash: number, mask: number): number {
  return (Math.imul(parent, 0x9e3779b1) ^ hash) & mask;
}

function quote(raw: string): string {
  return JSON.stringify(displayName(raw));
}
