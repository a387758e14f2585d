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
 * The plan holds numbers, not paths: directory nodes in walk order, and the first node of each
 * inode (in order of first paths, or by entry index per layer), with a side map to the other
 * nodes of the few inodes that have several; a path string is made only when its entry is emitted
 * (`pathsOf`, tree.ts `path`), so nothing per path outlives the emission of its entry.
 *
 * @example
 * ```ts
 * const plan = makePlan(tree);
 * for (const node of plan.dirs) sink.entry(tree.inodes.entry(tree.inode(node), ""), tree.path(node));
 * plan.bodies.get(0); // first nodes of the inodes whose body is in layer 0, by entry index
 * pathsOf(plan, node); // ["usr/bin/a", "usr/bin/b"]: the first carries the content
 * ```
 */
import { GrowableUint32 } from "../../util/growable.js";
import { NO_LAYER } from "./inodes.js";
import { NONE, ROOT, type FlatTree } from "./tree.js";

export interface EmitPlan {
  tree: FlatTree;
  /** Directory nodes, parents before children (the walk order). */
  dirs: Uint32Array;
  /** First nodes of the inodes whose content is known without reading a layer, in walk order. */
  eager: Uint32Array;
  /** layer index → first nodes of the inodes whose body is an entry of that layer, by entry index. */
  bodies: Map<number, Uint32Array>;
  /** First node → the inode's other nodes, in walk order (hardlinks; most inodes have none). */
  links: Map<number, number[]>;
}

export function makePlan(tree: FlatTree): EmitPlan {
  const { inodes } = tree;
  const dirs = new GrowableUint32();
  const order = new GrowableUint32();
  const links = new Map<number, number[]>();
  const firstNode = new Uint32Array(inodes.count).fill(NONE);
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
      const first = firstNode[inode]!;
      if (first === NONE) {
        firstNode[inode] = node;
        order.push(node);
      } else {
        const others = links.get(first);
        if (others === undefined) links.set(first, [node]);
        else others.push(node);
      }
    }
  }
  const eager = new GrowableUint32();
  const byLayer = new Map<number, GrowableUint32>();
  for (const node of order.view()) {
    const inode = tree.inode(node);
    const layer = inodes.layer(inode);
    if (layer === NO_LAYER || inodes.type(inode) !== "file" || inodes.size(inode) === 0) {
      eager.push(node);
      continue;
    }
    let list = byLayer.get(layer);
    if (list === undefined) byLayer.set(layer, (list = new GrowableUint32()));
    list.push(node);
  }
  const bodies = new Map<number, Uint32Array>();
  const index = (node: number): number => inodes.index(tree.inode(node));
  for (const [layer, list] of byLayer) {
    bodies.set(
      layer,
      list
        .view()
        .slice()
        .sort((a, b) => index(a) - index(b)),
    );
  }
  return { tree, dirs: dirs.view().slice(), eager: eager.view().slice(), bodies, links };
}

/** Every path of the inode first met at `node`; the first carries the content, the rest are hardlinks to it. */
export function pathsOf(plan: EmitPlan, node: number): string[] {
  const paths = [plan.tree.path(node)];
  for (const other of plan.links.get(node) ?? []) paths.push(plan.tree.path(other));
  return paths;
}
