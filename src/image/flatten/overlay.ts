/**
 * Converts synthetic overlay entries (Singularity metadata written by the image builder) into tar
 * entries and applies them over the image tree after the last layer, with their policy.
 *
 * @example
 * ```ts
 * applyOverlay(tree, [{ path: ".singularity.d/runscript", type: "file", mode: 0o755,
 *   content: Buffer.from("#!/bin/sh\n"), mtime: new Date(0), uid: 0, gid: 0, policy: "replace" }], 3);
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import { cleanComponents } from "./paths.js";
import { fromUtf8, type TarEntry } from "./tar-header.js";
import type { FlatTree } from "./tree.js";
import type { OverlayEntry } from "./types.js";

export function overlayToEntry(overlay: OverlayEntry): TarEntry {
  const name = fromUtf8(overlay.path);
  if (cleanComponents(name).length === 0) {
    throw new SregistryError(`overlay entry ${JSON.stringify(overlay.path)} names the root`, {
      code: "USAGE",
    });
  }
  if (overlay.type === "symlink" && !overlay.linkname) {
    throw new SregistryError(`overlay symlink ${JSON.stringify(overlay.path)} has no target`, {
      code: "USAGE",
    });
  }
  return {
    name,
    type: overlay.type,
    mode: overlay.mode & 0o7777,
    uid: overlay.uid,
    gid: overlay.gid,
    size: overlay.type === "file" ? (overlay.content?.length ?? 0) : 0,
    mtime: Math.floor(overlay.mtime.getTime() / 1000),
    linkname: overlay.type === "symlink" ? fromUtf8(overlay.linkname!) : "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: null,
  };
}

/** Applies every overlay entry in order as the pseudo-layer `layer`; returns how many applied. */
export function applyOverlay(tree: FlatTree, overlay: readonly OverlayEntry[], layer: number): number {
  tree.startLayer(layer);
  let applied = 0;
  for (const item of overlay) {
    const entry = overlayToEntry(item);
    const content = item.type === "file" ? (item.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    if (tree.applySynthetic(entry, { content }, item.policy === "ifAbsent")) applied++;
  }
  return applied;
}
