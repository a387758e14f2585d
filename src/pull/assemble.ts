/**
 * Build stage: layers (from the cache) + Singularity metadata → one flattened tar stream →
 * squashfs written straight into the SIF's partition slot → SIF header and descriptors.
 * No root filesystem is ever written to disk.
 *
 * @example
 * ```ts
 * await assembleSif({ layers, config, reference: "nvcr.io/nvidia/tensorflow:17.11", out: tmpPath, ... });
 * ```
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { openLayerStream } from "../build/flatten/decompress.js";
import { flattenLayers } from "../build/flatten/flatten.js";
import { buildSquashfs, type Compression } from "../build/squashfs/builder.js";
import { planSif, writeSifHead } from "../build/sif/writer.js";
import { definitionFile } from "../build/singularity/definition.js";
import { inspectMetadata } from "../build/singularity/inspect-metadata.js";
import { singularityOverlay } from "../build/singularity/overlay.js";
import type { ImageConfig, Platform } from "../registry/types.js";
import type { Logger } from "../util/log.js";
import { VERSION } from "../version.js";

export interface AssembleLayer {
  digest: string;
  mediaType: string;
  path: string;
}

export interface AssembleInput {
  layers: AssembleLayer[];
  config: ImageConfig;
  /** The image as the user named it, for the definition file and labels. */
  reference: string;
  manifestDigest: string;
  platform: Platform;
  preferCmd: boolean;
  compression: Compression;
  /** Temp path of the SIF to write (same directory as its final place). */
  out: string;
  logger: Logger;
  allowForeign?: boolean;
  onBytes?: (bytes: number) => void;
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

/** A stable identity for one build: same manifest, platform and options → same SIF ID. */
export function buildKey(input: Pick<AssembleInput, "manifestDigest" | "platform" | "preferCmd" | "compression">): string {
  const platform = [input.platform.os, input.platform.architecture, input.platform.variant ?? ""].join("/");
  return createHash("sha256")
    .update([input.manifestDigest, platform, input.compression, String(input.preferCmd), VERSION].join("\n"))
    .digest("hex");
}

export async function assembleSif(input: AssembleInput): Promise<AssembleResult> {
  const created = imageCreated(input.config);
  const architecture = input.config.architecture ?? input.platform.architecture;
  const overlay = singularityOverlay({
    config: input.config,
    reference: input.reference,
    manifestDigest: input.manifestDigest,
    preferCmd: input.preferCmd,
    created,
    toolVersion: VERSION,
  });
  const definition = Buffer.from(definitionFile(input.reference));
  const metadata = Buffer.from(
    JSON.stringify(
      inspectMetadata({ config: input.config, reference: input.reference, overlay, preferCmd: input.preferCmd }),
    ),
  );
  const ociConfig = Buffer.from(JSON.stringify(input.config.config ?? {}));
  const plan = planSif(
    [
      { type: "deffile", size: definition.length },
      { type: "json", name: "inspect-metadata.json", size: metadata.length },
      { type: "json", name: "oci-config.json", size: ociConfig.length },
      { type: "partition", size: 0, partition: { fs: "squashfs", type: "primsys", arch: architecture } },
    ],
    { deterministicFrom: buildKey(input), created },
  );

  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  const sources = input.layers.map((layer) => ({
    digest: layer.digest,
    mediaType: layer.mediaType,
    open: () => openLayerStream(layer.path, layer.mediaType, { allowForeign: input.allowForeign ?? false }),
  }));
  const flattening = flattenLayers(sources, overlay, tar, {
    logger: input.logger,
    ...(input.onBytes ? { onProgress: input.onBytes } : {}),
  });
  const squashing = buildSquashfs(
    tar,
    { path: input.out, offset: plan.partitionOffset },
    { compression: input.compression, mkfsTime: Math.floor(created.getTime() / 1000), logger: input.logger },
  );
  // If one side fails, the other must stop instead of waiting forever on a stalled pipe.
  flattening.catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
  squashing.catch(() => tar.destroy());
  const [flat, squash] = await Promise.allSettled([flattening, squashing]);
  if (flat.status === "rejected") throw flat.reason;
  if (squash.status === "rejected") throw squash.reason;

  const handle = await open(input.out, "r+");
  try {
    await writeSifHead(handle.fd, plan, [definition, metadata, ociConfig], squash.value.size);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { squashfsBytes: squash.value.size, tool: squash.value.tool };
}
