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
 * @example
 * ```ts
 * const tree = new FlatTree();
 * tree.startLayer(0);
 * tree.apply(entry, { layer: 0, index: 0 });
 * for (const item of tree.walk()) console.log(item.path);
 * ```
 */
import { cleanComponents } from "./paths.js";
import { displayName, type TarEntry } from "./tar-header.js";

/** Where a file's body comes from: an entry of a layer, or bytes held in memory. */
export type BodySource = { layer: number; index: number } | { content: Buffer };

export interface Inode {
  /** Metadata (the name is irrelevant: an inode can have several paths). */
  entry: TarEntry;
  source: BodySource;
}

export interface DirNode {
  kind: "dir";
  meta: TarEntry;
  children: Map<string, TreeNode>;
  /** Index of the last layer that wrote this path or a descendant (umoci's upperPaths). */
  upper: number;
}

export interface LeafNode {
  kind: "leaf";
  inode: Inode;
  upper: number;
}

export type TreeNode = DirNode | LeafNode;

/** A structural problem of a layer (an invalid entry); the flattener adds the layer digest. */
export class TreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TreeError";
  }
}

const MAX_SYMLINK_HOPS = 255;
const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

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
  readonly root: DirNode = { kind: "dir", meta: directoryEntry(0), children: new Map(), upper: -1 };
  private layer = -1;
  /** Called with a message when an entry is accepted with a repair (e.g. a file parent replaced). */
  onWarning: (message: string) => void = () => {};

  startLayer(layer: number): void {
    this.layer = layer;
  }

  /** Applies one tar entry of the current layer. */
  apply(entry: TarEntry, source: BodySource): void {
    const components = cleanComponents(entry.name);
    const base = components.pop();
    if (base === undefined) return this.applyRoot(entry);
    if (base.startsWith(WHITEOUT)) return this.whiteout(components, base);
    const stack = this.resolveDir(components, true, entry.mtime)!;
    const parent = stack[stack.length - 1]!;
    const existing = parent.children.get(base);
    if (entry.type === "dir" && existing?.kind === "dir") {
      existing.meta = entry;
      this.markUpper(stack, existing);
      return;
    }
    parent.children.delete(base);
    const node = this.createNode(entry, source);
    parent.children.set(base, node);
    this.markUpper(stack, node);
  }

  /**
   * Applies a synthetic entry; with `ifAbsent` only when nothing is at the path, or when both the
   * entry and what is there are symlinks (then the entry replaces the symlink).
   */
  applySynthetic(entry: TarEntry, source: BodySource, ifAbsent: boolean): boolean {
    if (ifAbsent) {
      const existing = this.lookup(cleanComponents(entry.name));
      const bothSymlinks = entry.type === "symlink" && isSymlink(existing);
      if (existing !== null && !bothSymlinks) return false;
    }
    this.apply(entry, source);
    return true;
  }

  /** The node at a path, resolving parents through symlinks (final component not followed). */
  lookup(components: string[]): TreeNode | null {
    if (components.length === 0) return this.root;
    const stack = this.resolveDir(components.slice(0, -1), false, 0);
    if (stack === null) return null;
    return stack[stack.length - 1]!.children.get(components[components.length - 1]!) ?? null;
  }

  private applyRoot(entry: TarEntry): void {
    if (entry.type !== "dir") {
      throw new TreeError(`entry ${quote(entry.name)} would change the type of the root directory`);
    }
    this.root.meta = entry;
    this.root.upper = this.layer;
  }

  private createNode(entry: TarEntry, source: BodySource): TreeNode {
    if (entry.type === "dir") return { kind: "dir", meta: entry, children: new Map(), upper: this.layer };
    if (entry.type === "link") return { kind: "leaf", inode: this.linkTarget(entry), upper: this.layer };
    return { kind: "leaf", inode: { entry, source }, upper: this.layer };
  }

  private linkTarget(entry: TarEntry): Inode {
    const target = cleanComponents(entry.linkname);
    const node = target.length === 0 ? this.root : this.lookup(target);
    if (node === null) {
      throw new TreeError(`hardlink ${quote(entry.name)} points to missing ${quote(entry.linkname)}`);
    }
    if (node.kind === "dir") {
      throw new TreeError(`hardlink ${quote(entry.name)} points to directory ${quote(entry.linkname)}`);
    }
    return node.inode;
  }

  private whiteout(dir: string[], base: string): void {
    const stack = this.resolveDir(dir, false, 0);
    if (base === OPAQUE) {
      if (stack === null) return;
      const target = stack[stack.length - 1]!;
      for (const [name, child] of target.children) this.removeLower(target, name, child);
      return;
    }
    const name = base.slice(WHITEOUT.length);
    if (name === "" || name === "." || name === "..") {
      throw new TreeError(`invalid whiteout entry ${quote([...dir, base].join("/"))}`);
    }
    if (stack === null) return;
    const parent = stack[stack.length - 1]!;
    const child = parent.children.get(name);
    if (child !== undefined) this.removeLower(parent, name, child);
  }

  /** Removes `node` unless the current layer wrote it (then recurses into its children). */
  private removeLower(parent: DirNode, name: string, node: TreeNode): void {
    if (node.upper !== this.layer) {
      parent.children.delete(name);
      return;
    }
    if (node.kind === "dir") {
      for (const [childName, child] of node.children) this.removeLower(node, childName, child);
    }
  }

  private markUpper(stack: DirNode[], node: TreeNode): void {
    node.upper = this.layer;
    for (let i = stack.length - 1; i >= 0 && stack[i]!.upper !== this.layer; i--) {
      stack[i]!.upper = this.layer;
    }
  }

  /**
   * Resolves a directory path inside the root like SecureJoin, returning the stack of directories
   * from the root down. With `create`, missing directories are made (implicit, 0755 root-owned)
   * and non-directories in the way are replaced; without, it returns null where one is missing.
   */
  resolveDir(components: readonly string[], create: boolean, mtime: number): DirNode[] | null {
    const stack: DirNode[] = [this.root];
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
      const child = top.children.get(part);
      if (child?.kind === "dir") {
        stack.push(child);
      } else if (child !== undefined && child.inode.entry.type === "symlink") {
        if (++hops > MAX_SYMLINK_HOPS)
          throw new TreeError(`too many levels of symbolic links at ${quote(part)}`);
        const target = child.inode.entry.linkname;
        if (target.startsWith("/")) stack.length = 1;
        queue = [...target.split("/"), ...queue.slice(i + 1)];
        i = -1;
      } else {
        if (!create) return null;
        if (child !== undefined) this.onWarning(`replacing non-directory ${quote(part)} with a directory`);
        const dir: DirNode = { kind: "dir", meta: directoryEntry(mtime), children: new Map(), upper: -1 };
        top.children.set(part, dir);
        stack.push(dir);
      }
    }
    return stack;
  }

  /** Visits the final tree depth-first, parents before children; paths have no leading slash. */
  *walk(): Generator<{ path: string; node: TreeNode }> {
    const pending: { prefix: string; dir: DirNode }[] = [{ prefix: "", dir: this.root }];
    while (pending.length > 0) {
      const { prefix, dir } = pending.pop()!;
      for (const [name, node] of dir.children) {
        const path = prefix + name;
        yield { path, node };
        if (node.kind === "dir") pending.push({ prefix: path + "/", dir: node });
      }
    }
  }
}

function isSymlink(node: TreeNode | null): boolean {
  return node?.kind === "leaf" && node.inode.entry.type === "symlink";
}

function quote(raw: string): string {
  return JSON.stringify(displayName(raw));
}
