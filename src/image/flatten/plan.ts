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
 * The plan holds numbers, not paths: directory nodes in walk order, inodes in order of their first
 * path, per inode its first node and the chain of its other nodes; a path string is made only when
 * its entry is emitted (`pathsOf`, tree.ts `path`), so nothing per path outlives the emission of its entry.
 *
 * @example
 * ```ts
 * const plan = makePlan(tree);
 * for (const node of plan.dirs) sink.entry(tree.inodes.entry(tree.inode(node), ""), tree.path(node));
 * plan.bodies.get(0); // inodes whose body is in layer 0, by entry index
 * pathsOf(plan, inode); // ["usr/bin/a", "usr/bin/b"]: the first carries the content
 * ```
 */
import { GrowableUint32 } from "../../util/growable.js";
import { NO_LAYER } from "./inodes.js";
import { NONE, ROOT, type FlatTree } from "./tree.js";

export interface EmitPlan {
  tree: FlatTree;
  /** Directory nodes, parents before children (the walk order). */
  dirs: Uint32Array;
  /** Inodes whose content is known without reading a layer, in order of their first path. */
  eager: Uint32Array;
  /** layer index → inodes whose body is an entry of that layer, by entry index. */
  bodies: Map<number, Uint32Array>;
  /** inode → its first node (NONE: no surviving path). */
  firstNode: Uint32Array;
  /** node → the next node of the same inode (NONE: the last). */
  nextNode: Uint32Array;
}

export function makePlan(tree: FlatTree): EmitPlan {
  const { inodes } = tree;
  const dirs = new GrowableUint32();
  const order = new GrowableUint32();
  const firstNode = new Uint32Array(inodes.count).fill(NONE);
  const lastNode = new Uint32Array(inodes.count);
  const nextNode = new Uint32Array(tree.nodeCount).fill(NONE);
  // Depth-first, a directory's children in insertion order, the last pushed directory first.
  const pending: number[] = [ROOT];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (let node = tree.firstChild(dir); node !== NONE; node = tree.nextSibling(node)) {
      if (tree.isDir(node)) {
        dirs.push(node);
        pending.push(node);
        continue;
      }
      const inode = tree.inode(node);
      if (firstNode[inode] === NONE) {
        firstNode[inode] = node;
        order.push(inode);
      } else {
        nextNode[lastNode[inode]!] = node;
      }
      lastNode[inode] = node;
    }
  }
  const eager = new GrowableUint32();
  const byLayer = new Map<number, GrowableUint32>();
  for (const inode of order.view()) {
    const layer = inodes.layer(inode);
    if (layer === NO_LAYER || inodes.type(inode) !== "file" || inodes.size(inode) === 0) {
      eager.push(inode);
      continue;
    }
    let list = byLayer.get(layer);
    if (list === undefined) byLayer.set(layer, (list = new GrowableUint32()));
    list.push(inode);
  }
  const bodies = new Map<number, Uint32Array>();
  for (const [layer, list] of byLayer) {
    bodies.set(
      layer,
      list
        .view()
        .slice()
        .sort((a, b) => inodes.index(a) - inodes.index(b)),
    );
  }
  return { tree, dirs: dirs.view().slice(), eager: eager.view().slice(), bodies, firstNode, nextNode };
}

/** Every path of `inode`, in walk order; the first carries the content, the rest are hardlinks to it. */
export function pathsOf(plan: EmitPlan, inode: number): string[] {
  const paths: string[] = [];
  for (let node = plan.firstNode[inode]!; node !== NONE; node = plan.nextNode[node]!) {
    paths.push(plan.tree.path(node));
  }
  return paths;
}
