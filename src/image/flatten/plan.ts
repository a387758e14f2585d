/**
 * Turns the final tree into an emission plan: which entries can be written at once (directories,
 * symlinks, devices, FIFOs, empty files, in-memory overlay files) and which file bodies must be
 * copied from which layer entry in the second pass.
 *
 * Every inode is written once, under the first of its surviving paths (so a hardlink whose
 * original was removed or replaced carries the body itself); its other paths follow as hardlinks
 * to that first path. Directories come first, parents before children, which both sqfstar and
 * tar2sqfs accept (tar2sqfs refuses a path twice, so each path appears exactly once).
 *
 * @example
 * ```ts
 * const plan = makePlan(tree);
 * for (const dir of plan.dirs) sink.entry(dir.meta, dir.path);
 * plan.bodies.get(0)?.get(17); // { inode, paths } to copy from entry 17 of layer 0
 * ```
 */
import type { TarEntry } from "./tar-header.js";
import type { FlatTree, Inode } from "./tree.js";

export interface PlannedInode {
  inode: Inode;
  /** Every path of the inode; the first carries the content, the rest are hardlinks to it. */
  paths: string[];
}

export interface EmitPlan {
  dirs: { path: string; meta: TarEntry }[];
  /** Inodes whose content is known without reading a layer. */
  eager: PlannedInode[];
  /** layer index → entry index → inode whose body is that entry's body. */
  bodies: Map<number, Map<number, PlannedInode>>;
}

export function makePlan(tree: FlatTree): EmitPlan {
  const dirs: EmitPlan["dirs"] = [];
  const inodes = new Map<Inode, PlannedInode>();
  for (const { path, node } of tree.walk()) {
    if (node.kind === "dir") {
      dirs.push({ path, meta: node.meta });
      continue;
    }
    const planned = inodes.get(node.inode);
    if (planned === undefined) inodes.set(node.inode, { inode: node.inode, paths: [path] });
    else planned.paths.push(path);
  }
  const eager: PlannedInode[] = [];
  const bodies = new Map<number, Map<number, PlannedInode>>();
  for (const planned of inodes.values()) {
    const { entry, source } = planned.inode;
    if ("content" in source || entry.type !== "file" || entry.size === 0) {
      eager.push(planned);
      continue;
    }
    let layer = bodies.get(source.layer);
    if (layer === undefined) bodies.set(source.layer, (layer = new Map()));
    layer.set(source.index, planned);
  }
  return { dirs, eager, bodies };
}
