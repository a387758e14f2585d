/**
 * Build stage for `pull --format squashfs`: layers → the same flattened tree as our SIF's (with
 * `/.singularity.d`) plus enroot's files (overlay.ts) → every entry made root-owned (all-root.ts)
 * → a plain squashfs file that `enroot create`/`enroot start` and Pyxis `--container-image=./x.sqsh`
 * take as is. Same streaming as the SIF: no root filesystem on disk.
 *
 * @example
 * ```ts
 * await assembleEnrootSquashfs({ ...assembleInput, out: "/tmp/pytorch.sqsh" });
 * ```
 */
import { buildSquashfs } from "../image/squashfs/builder.js";
import { singularityOverlay } from "../image/singularity/overlay.js";
import {
  type AssembleInput,
  type AssembleResult,
  flattenInput,
  imageCreated,
  singularityInput,
  toolCompression,
} from "./assemble.js";
import { flattenInto } from "../image/flatten-stream.js";
import { allRootTar } from "../image/enroot/all-root.js";
import { enrootEnvironment } from "../image/enroot/files.js";
import { enrootOverlay } from "../image/enroot/overlay.js";

/** Writes the squashfs at `input.out` (the SIF-only fields `buildKey` etc. are unused). */
export async function assembleEnrootSquashfs(input: AssembleInput): Promise<AssembleResult> {
  const created = imageCreated(input.config);
  const skipped = enrootEnvironment(input.config).skipped;
  for (const entry of skipped) {
    input.logger.warning(
      `/etc/environment: left out an Env entry enroot cannot read: ${JSON.stringify(entry)}`,
    );
  }
  const overlay = [
    ...singularityOverlay(singularityInput(input)),
    ...enrootOverlay({ config: input.config, uri: provenance(input.reference), created }),
  ];
  const squash = await flattenInto(flattenInput(input, overlay), (tar, root, stop) => {
    const owned = allRootTar();
    tar.on("error", (err) => owned.destroy(err));
    tar.pipe(owned);
    return buildSquashfs(
      owned,
      { path: input.out },
      {
        ...toolCompression(input.compression),
        mkfsTime: Math.floor(created.getTime() / 1000),
        root: { ...root, uid: 0, gid: 0 },
        logger: input.logger,
        signal: stop,
      },
    );
  });
  input.signal?.throwIfAborted();
  return { squashfsBytes: squash.size, tool: squash.tool };
}

/**
 * `nvcr.io/nvidia/pytorch:24.01-py3` (formatReference's canonical form) →
 * `docker://nvcr.io#nvidia/pytorch:24.01-py3` (enroot's form).
 */
export function provenance(reference: string): string {
  const slash = reference.indexOf("/");
  if (slash < 0) return `docker://${reference}`;
  return `docker://${reference.slice(0, slash)}#${reference.slice(slash + 1)}`;
}
