/**
 * The synthetic entries a pull lays over the flattened image root: the `/.singularity.d` tree,
 * the directories and empty files the runtime binds over, the root convenience symlinks and the
 * definition file (Apptainer's `makeBaseEnv` plus its OCI writers). A pure function; the layer
 * flattener applies the entries after the last layer.
 *
 * Policies: `replace` — write the entry whatever is at the path (files). `ifAbsent` — for a
 * directory, ensure it exists (keep an existing directory or symlink to one, with its metadata);
 * for a symlink, create it when nothing is there *or when a symlink is already there* (it is then
 * fixed to our target), and leave any non-symlink alone.
 *
 * All entries are owned by 0:0 and dated `created`. Parents come before children.
 *
 * @example
 * ```ts
 * const entries = singularityOverlay({ config, reference: "docker.io/library/alpine:3.20",
 *   created: new Date(config.created ?? 0), toolVersion: "0.3.0" });
 * // [{ path: ".singularity.d", type: "dir", mode: 0o755, policy: "ifAbsent", … }, …]
 * ```
 */
import type { OverlayEntry as FlattenOverlayEntry } from "../flatten/types.js";
import { singularityMetadata, type SingularityInput } from "./metadata.js";

/**
 * The flattener's overlay entry, narrowed to what Singularity metadata uses: owned by root, with
 * permission bits only (0o755, 0o1777…) and paths relative to the image root.
 */
export type OverlayEntry = FlattenOverlayEntry & { uid: 0; gid: 0 };

export type OverlayInput = SingularityInput;

const DIRECTORIES: [string, number][] = [
  [".singularity.d", 0o755],
  [".singularity.d/libs", 0o755],
  [".singularity.d/actions", 0o755],
  [".singularity.d/env", 0o755],
  ["dev", 0o755],
  ["proc", 0o755],
  ["root", 0o755],
  ["var", 0o755],
  ["var/tmp", 0o1777],
  ["tmp", 0o1777],
  ["etc", 0o755],
  ["sys", 0o755],
  ["home", 0o755],
];

const EMPTIED_FILES = ["etc/hosts", "etc/resolv.conf"];

const ROOT_SYMLINKS: [string, string][] = [
  ["singularity", ".singularity.d/runscript"],
  [".run", ".singularity.d/actions/run"],
  [".exec", ".singularity.d/actions/exec"],
  [".test", ".singularity.d/actions/test"],
  [".shell", ".singularity.d/actions/shell"],
  ["environment", ".singularity.d/env/90-environment.sh"],
];

/** All overlay entries: directories, then files, then root symlinks. */
export function singularityOverlay(input: OverlayInput): OverlayEntry[] {
  const base = { mtime: input.created, uid: 0 as const, gid: 0 as const };
  const dirs = DIRECTORIES.map(([path, mode]): OverlayEntry => ({
    ...base,
    path,
    type: "dir",
    mode,
    policy: "ifAbsent",
  }));
  const emptied = EMPTIED_FILES.map((path): OverlayEntry => ({
    ...base,
    path,
    type: "file",
    mode: 0o644,
    content: Buffer.alloc(0),
    policy: "replace",
  }));
  const files = singularityMetadata(input).files.map((file): OverlayEntry => ({
    ...base,
    path: file.path,
    type: "file",
    mode: file.mode,
    content: Buffer.from(file.content, "utf8"),
    policy: "replace",
  }));
  const links = ROOT_SYMLINKS.map(([path, linkname]): OverlayEntry => ({
    ...base,
    path,
    type: "symlink",
    mode: 0o777,
    linkname,
    policy: "ifAbsent",
  }));
  return [...dirs, ...emptied, ...files, ...links];
}
