/**
 * Peak RSS of the native build of a many-small-files image: the flattener's tree and plan plus the
 * squashfs writer's tables, in one process, as in a pull's build stage (no download). The image is
 * the benchmark's `many` shape (bench/generate.ts), generated once into `layout` when missing.
 * Prints the peak RSS, the heap after the first pass (the tree; with `--expose-gc`, after a
 * collection) and the sha256 of the image, so two builds of the same input can be compared.
 *
 * MEASURE_SNAPSHOT=<file> writes a V8 heap snapshot there after the first pass; MEASURE_TRACE=1
 * prints the memory once a second. `--expose-gc` collects before the after-first-pass figures (it
 * may lower the peak a little: leave it out for the peak). tsx itself adds about 40 MB of RSS; the
 * figures in ARCHITECTURE.md come from this file compiled with tsc (as `npm run bench` runs).
 *
 * Usage: node --import tsx scripts/measure-flatten-memory.ts [layout] [files] [layers] [compression]
 *        (defaults: /tmp/sregistry-rss-many-500000x2, 500000, 2, gzip:1)
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, rmSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { generateImage } from "../bench/generate.js";
import { openLayerStream } from "../src/image/flatten/decompress.js";
import { flattenLayers } from "../src/image/flatten/flatten.js";
import type { LayerSource } from "../src/image/flatten/types.js";
import { parseCompression } from "../src/image/squashfs/compression.js";
import { openNativeSink } from "../src/image/squashfs/native.js";

const [layoutArg, filesText = "500000", layersText = "2", compression = "gzip:1"] = process.argv.slice(2);
const files = Number(filesText);
const layerCount = Number(layersText);
const layout = layoutArg ?? join(tmpdir(), `sregistry-rss-many-${files}x${layerCount}`);
const MIB = 2 ** 20;

interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
}

async function readBlob<T>(digest: string): Promise<T> {
  return JSON.parse(await readFile(join(layout, "blobs", "sha256", digest.slice(7)), "utf8")) as T;
}

async function layerSources(): Promise<LayerSource[]> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const manifest = await readBlob<{ config: Descriptor; layers: Descriptor[] }>(index.manifests[0]!.digest);
  const config = await readBlob<{ rootfs: { diff_ids: string[] } }>(manifest.config.digest);
  return manifest.layers.map((layer, i) => {
    const path = join(layout, "blobs", "sha256", layer.digest.slice(7));
    return {
      digest: layer.digest,
      mediaType: layer.mediaType,
      diffId: config.rootfs.diff_ids[i]!,
      compressedBytes: layer.size,
      open: () => openLayerStream(path, layer.mediaType),
    };
  });
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

if (!existsSync(join(layout, "index.json"))) {
  console.error(`generating ${files} files in ${layerCount} layers into ${layout}…`);
  await generateImage(layout, { shape: "many", layers: layerCount, files });
}
const layers = await layerSources();
const out = join(tmpdir(), `measure-flatten-${process.pid}.sqfs`);
const gc = (globalThis as { gc?: () => void }).gc;
let treeHeapMiB = 0;
let treeRssMiB = 0;
// MEASURE_TRACE=1: a line per second on stderr (rss, V8 heap total/used, array buffers, MiB).
const trace = process.env.MEASURE_TRACE
  ? setInterval(() => {
      const m = process.memoryUsage();
      const mib = (bytes: number): number => Math.round(bytes / MIB);
      console.error(
        `rss ${mib(m.rss)} heap ${mib(m.heapTotal)}/${mib(m.heapUsed)} buffers ${mib(m.arrayBuffers)}`,
      );
    }, 1000)
  : undefined;
const started = process.hrtime.bigint();
const sink = await openNativeSink({ path: out, offset: 0 }, { compression: parseCompression(compression) });
try {
  const stats = await flattenLayers(layers, [], sink, {
    onScanned: () => {
      gc?.();
      const usage = process.memoryUsage();
      treeHeapMiB = Math.round(usage.heapUsed / MIB);
      treeRssMiB = Math.round(usage.rss / MIB);
      if (process.env.MEASURE_SNAPSHOT) writeHeapSnapshot(process.env.MEASURE_SNAPSHOT);
    },
  });
  const built = await sink.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      files,
      layers: layers.length,
      compression,
      entriesWritten: stats.entriesWritten,
      restarted: stats.restarted,
      seconds: Number(seconds.toFixed(1)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      imageMiB: Number(((await stat(out)).size / MIB).toFixed(1)),
      imageBytes: built.size,
      sha256: await sha256(out),
      heapAfterScanMiB: treeHeapMiB,
      rssAfterScanMiB: treeRssMiB,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} finally {
  clearInterval(trace);
  rmSync(out, { force: true });
}
