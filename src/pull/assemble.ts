/**
 * Build stage: layers (from the cache) + Singularity metadata → the flattened entries → squashfs
 * written straight into the SIF's partition slot → SIF header and descriptors. The native writer
 * takes the entries directly; an external tool (tar2sqfs, sqfstar) reads them as a tar stream.
 * No root filesystem is ever written to disk.
 *
 * @example
 * ```ts
 * await assembleSif({ layers, config, reference: "nvcr.io/nvidia/tensorflow:17.11", out: tmpPath, ... });
 * ```
 */
import { buildSquashfs, type SquashfsOptions } from "../image/squashfs/builder.js";
import type { ChosenBuilder } from "../image/squashfs/choose-builder.js";
import { openNativeSink } from "../image/squashfs/native.js";
import type { Compression } from "../image/squashfs/args.js";
import type { CompressionSpec } from "../image/squashfs/compression.js";
import { createSif, sifPartitionOffset } from "../image/sif/writer.js";
import { singularityMetadata } from "../image/singularity/metadata.js";
import { singularityOverlay } from "../image/singularity/overlay.js";
import type { InflateLimit } from "../image/flatten/layer-check.js";
import type { OverlayEntry } from "../image/flatten/types.js";
import type { ImageConfig, Platform } from "../oci/types.js";
import type { Logger } from "../util/log.js";
import { VERSION } from "../version.js";
import {
  flattenInto,
  flattenToSink,
  type FlattenIntoInput,
  type StoredLayer,
} from "../image/flatten-stream.js";

export interface AssembleInput {
  layers: StoredLayer[];
  config: ImageConfig;
  /** The image as the user named it, for the definition file and labels. */
  reference: string;
  manifestDigest: string;
  platform: Platform;
  preferCmd: boolean;
  /** An algorithm (its default level) or a parsed `--compression` value. */
  compression: Compression | CompressionSpec;
  /** Who writes the squashfs (choose-builder.ts); default "auto", an installed external tool. */
  builder?: ChosenBuilder;
  /** Temp path of the SIF to write (same directory as its final place). */
  out: string;
  logger: Logger;
  /** Identity of this build (`pullKey` in pull/reuse.ts): the SIF's ID is derived from it. */
  buildKey: string;
  allowForeign?: boolean;
  /** How far a layer may inflate (SREGISTRY_INFLATE_RATIO / _FLOOR; default in layer-check.ts). */
  inflateLimit?: InflateLimit;
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface AssembleResult {
  squashfsBytes: number;
  tool: string;
}

/** The image's creation time: fixed per manifest, so rebuilds are byte-identical. */
export function imageCreated(config: ImageConfig): Date {
  const parsed = config.created ? Date.parse(config.created) : NaN;
  return Number.isFinite(parsed) && parsed > 0 ? new Date(Math.floor(parsed / 1000) * 1000) : new Date(0);
}

/** What /.singularity.d is made from, for the SIF and for the enroot squashfs alike. */
export function singularityInput(input: AssembleInput) {
  return {
    config: input.config,
    reference: input.reference,
    manifestDigest: input.manifestDigest,
    preferCmd: input.preferCmd,
    created: imageCreated(input.config),
    toolVersion: VERSION,
  };
}

/**
 * The flattener's input for either output: the cached layers, each checked against the config's
 * `rootfs.diff_ids` (none for schema 1 images) and its inflation bound, under `overlay`.
 *
 * @example
 * ```ts
 * await flattenInto(flattenInput(input, singularityOverlay(singularityInput(input))), consume);
 * ```
 */
export function flattenInput(input: AssembleInput, overlay: readonly OverlayEntry[]): FlattenIntoInput {
  return {
    layers: input.layers,
    overlay,
    diffIds: input.config.rootfs?.diff_ids,
    allowForeign: input.allowForeign ?? false,
    ...(input.inflateLimit ? { inflateLimit: input.inflateLimit } : {}),
    logger: input.logger,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onBytes ? { onBytes: input.onBytes } : {}),
  };
}

/**
 * The external squashfs tool's compression options for a `--compression` value.
 *
 * @example
 * ```ts
 * toolCompression({ algorithm: "zstd", level: 19 }); // { compression: "zstd", compressionLevel: 19 }
 * ```
 */
export function toolCompression(
  compression: Compression | CompressionSpec,
): Pick<SquashfsOptions, "compression" | "compressionLevel" | "lz4hc"> {
  const spec = specOf(compression);
  return {
    compression: spec.algorithm,
    ...(spec.level !== undefined ? { compressionLevel: spec.level } : {}),
    ...(spec.hc ? { lz4hc: true } : {}),
  };
}

export async function assembleSif(input: AssembleInput): Promise<AssembleResult> {
  const singularity = singularityInput(input);
  const created = singularity.created;
  const meta = singularityMetadata(singularity);
  const spec = specOf(input.compression);
  const flatten = flattenInput(input, singularityOverlay(singularity));
  // The squashfs goes straight into the SIF's partition slot; the head is written afterwards
  // (sqfstar zero-fills what comes before its offset; tar2sqfs needs a temp file and a copy).
  const output = { path: input.out, offset: sifPartitionOffset(meta) };
  const mkfsTime = Math.floor(created.getTime() / 1000);
  const builder = input.builder ?? "auto";
  const squash =
    builder === "native"
      ? await flattenToSink(flatten, (onProgress) =>
          openNativeSink(output, { compression: spec, mkfsTime, logger: input.logger, onProgress }),
        )
      : await flattenInto(flatten, (tar, root, stop) =>
          buildSquashfs(tar, output, {
            ...toolCompression(spec),
            mkfsTime,
            root,
            tool: builder,
            logger: input.logger,
            signal: stop, // also aborted when the user's signal is
          }),
        );
  input.signal?.throwIfAborted();
  await createSif(input.out, {
    definition: meta.definition,
    inspectMetadata: meta.inspectMetadata,
    ociConfig: meta.ociConfig,
    partition: { arch: meta.architecture },
    deterministicId: input.buildKey,
    created,
  });
  return { squashfsBytes: squash.size, tool: squash.tool };
}

/** A `--compression` value as a spec: a bare algorithm means its default level. */
export function specOf(compression: Compression | CompressionSpec): CompressionSpec {
  return typeof compression === "string" ? { algorithm: compression } : compression;
}
