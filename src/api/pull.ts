/**
 * `pull`: registry image → verified blobs in the cache → SIF in storage → catalog row. Connects
 * the image argument to its registry and runs the pipeline (pull/pipeline.ts, where the stages and
 * their guarantees are described).
 *
 * @example
 * ```ts
 * const result = await pull(ctx, "nvidia://tensorflow:17.11", { onEvent: console.log });
 * result.path; // ~/.singularity/shub/nvidia/tensorflow/17.11@<sha256>.sif
 * ```
 */
import { pullWith, type PullOptions, type PullResult } from "../pull/pipeline.js";
import { connectRemote } from "../pull/remote.js";
import { isOrasUri } from "../reference/oras.js";
import type { Context } from "./context.js";
import { pullOras } from "./oras.js";

export type { PullOptions, PullResult } from "../pull/pipeline.js";

export async function pull(ctx: Context, image: string, options: PullOptions = {}): Promise<PullResult> {
  if (isOrasUri(image)) return pullOras(ctx, image, options);
  const remote = connectRemote(ctx, image, { insecure: options.insecure ?? false });
  try {
    return await pullWith(ctx, remote, options);
  } finally {
    remote.registry.close();
  }
}
