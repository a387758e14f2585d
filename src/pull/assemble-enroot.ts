/**
 * Build stage for `pull --format squashfs`: layers → the same flattened tree as our SIF's (with
 * `/.singularity.d`) plus enroot's files (overlay.ts) → every entry made root-owned (all-root.ts)
 * → a plain squashfs file that `enroot create`/`enroot start` and Pyxis `--container-image=./x.sqsh`
 * take as is. Same streaming as the SIF: no root filesystem on disk, and the same builder (the
 * native writer by default, fed the entries directly; `--builder` picks an external tool).
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
  specOf,
  toolCompression,
} from "./assemble.js";
import { flattenInto, flattenToSink } from "../image/flatten-stream.js";
import { allRootSink, allRootTar } from "../image/enroot/all-root.js";
import { openNativeSink } from "../image/squashfs/native.js";
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
  const spec = specOf(input.compression);
  const flatten = flattenInput(input, overlay);
  const mkfsTime = Math.floor(created.getTime() / 1000);
  const builder = input.builder ?? "auto";
  const squash =
    builder === "native"
      ? await flattenToSink(flatten, async (onProgress) =>
          allRootSink(
            await openNativeSink(
              { path: input.out },
              { compression: spec, mkfsTime, logger: input.logger, onProgress },
            ),
          ),
        )
      : await flattenInto(flatten, (tar, root, stop) => {
          const owned = allRootTar();
          tar.on("error", (err) => owned.destroy(err));
          tar.pipe(owned);
          return buildSquashfs(
            owned,
            { path: input.out },
            {
              ...toolCompression(spec),
              mkfsTime,
              root: { ...root, uid: 0, gid: 0 },
              tool: builder,
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
