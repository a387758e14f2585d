/**
 * The enroot files (see files.ts) as entries for the layer flattener, laid over the image after the
 * Singularity overlay, plus the image config itself at `/.sregistry/image-config.json`.
 *
 * Why the config goes inside: enroot keeps an image's config only in its own download cache
 * (`$ENROOT_CACHE_PATH/<config digest>`), outside the squashfs; a `.sqsh` we hand out travels alone,
 * so the config goes with it, in a directory of ours that no enroot or Pyxis path uses.
 *
 * @example
 * ```ts
 * const entries = enrootOverlay({ config, uri: "docker://nvcr.io#nvidia/pytorch:24.01-py3", created });
 * flattenInto({ ..., overlay: [...singularityOverlay(input), ...entries] }, consume);
 * ```
 */
import type { OverlayEntry } from "../flatten/types.js";
import type { ImageConfig } from "../../oci/types.js";
import { ENROOT_RC_LOCAL, enrootEnvironment, enrootFstab, enrootRc, workingDir } from "./files.js";

export interface EnrootOverlayInput {
  config: ImageConfig;
  /** Provenance written in `/etc/rc`, enroot style: `docker://registry#repository:tag`. */
  uri: string;
  /** mtime of every entry (the image's creation time: rebuilds are identical). */
  created: Date;
}

export const IMAGE_CONFIG_PATH = ".sregistry/image-config.json";

export function enrootOverlay(input: EnrootOverlayInput): OverlayEntry[] {
  const base = { mtime: input.created, uid: 0, gid: 0 };
  const dir = (path: string): OverlayEntry => ({
    ...base,
    path,
    type: "dir",
    mode: 0o755,
    policy: "ifAbsent",
  });
  const file = (path: string, text: string): OverlayEntry => ({
    ...base,
    path,
    type: "file",
    mode: 0o644,
    content: Buffer.from(text, "utf8"),
    policy: "replace",
  });
  // enroot `mkdir -p`s the working directory in the rootfs, so `cd` works on a read-only image.
  const work = workingDir(input.config)
    .split("/")
    .filter((part) => part !== "" && part !== "." && part !== "..");
  const workDirs = work.map((_, i) => dir(work.slice(0, i + 1).join("/")));
  return [
    dir("etc"),
    ...workDirs,
    dir(".sregistry"),
    file("etc/environment", enrootEnvironment(input.config).text),
    file("etc/rc", enrootRc(input.config, input.uri)),
    file("etc/rc.local", ENROOT_RC_LOCAL),
    file("etc/fstab", enrootFstab(input.config)),
    file(IMAGE_CONFIG_PATH, JSON.stringify(input.config, null, 2) + "\n"),
  ];
}
