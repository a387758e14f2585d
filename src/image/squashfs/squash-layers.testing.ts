/**
 * Test helper: in-memory layers → squashfs in one go (the pull itself goes through
 * image/flatten-stream.ts `flattenInto`, which reads the layers from the blob cache).
 * The flattener's tar is piped straight into the squashfs tool: the flattener's tar is piped straight into the squashfs tool.
 *
 * The tool is started only once the first pass has succeeded (so a bad layer never spawns it) and
 * with the image root's real attributes. When both sides fail, the tool's error wins if the tar
 * side only failed because the tool went away.
 *
 * @example
 * ```ts
 * const { flatten, squashfs } = await squashLayers(layers, overlay, { path: sifPath, offset: 4096 });
 * ```
 */
import { PassThrough } from "node:stream";
import { flattenLayers } from "../flatten/flatten.js";
import { OutputError } from "../flatten/sink.js";
import type { FlattenOptions, FlattenStats, LayerSource, OverlayEntry } from "../flatten/types.js";
import { buildSquashfs, type SquashfsOptions, type SquashfsOutput, type SquashfsResult } from "./builder.js";

export async function squashLayers(
  layers: readonly LayerSource[],
  overlay: readonly OverlayEntry[],
  output: SquashfsOutput,
  options: { flatten?: FlattenOptions; squashfs?: SquashfsOptions } = {},
): Promise<{ flatten: FlattenStats; squashfs: SquashfsResult }> {
  const tar = new PassThrough({ highWaterMark: 1024 * 1024 });
  tar.on("error", () => undefined); // reported through the two promises
  const stop = new AbortController();
  let building: Promise<SquashfsResult> | undefined;
  const flattening = flattenLayers(layers, overlay, tar, {
    ...options.flatten,
    onScanned: (root) => {
      options.flatten?.onScanned?.(root);
      building = buildSquashfs(tar, output, {
        ...options.squashfs,
        root: options.squashfs?.root ?? root,
        signal: stop.signal,
      });
      building.catch(() => {}); // awaited below
    },
  });
  let flatten: FlattenStats;
  try {
    flatten = await flattening;
  } catch (err) {
    if (building !== undefined && err instanceof OutputError) {
      tar.destroy();
      await building; // the tool went away first: throws the tool's error
    }
    // A running tool must be stopped: a bare destroy never ends its input, it would wait forever.
    tar.destroy(err instanceof Error ? err : new Error(String(err)));
    stop.abort(err);
    await building?.catch(() => {});
    throw err;
  }
  return { flatten, squashfs: await building! };
}
