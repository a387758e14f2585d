/**
 * The flattened root filesystem of an OCI layout as one tar file, made by the pull's own
 * flattener: the input the squashfs writer gets during a pull, kept on disk so the writer can be
 * timed alone (the gzip level table) without the download and the flattening.
 *
 * @example
 * ```ts
 * await writeFlatTar("/tmp/layout", "/tmp/flat.tar");
 * ```
 */
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { flattenInto } from "../src/image/flatten-stream.js";
import { silentLogger } from "../src/util/log.js";

interface Descriptor {
  digest: string;
  mediaType: string;
}

async function readBlob(layout: string, digest: string): Promise<unknown> {
  return JSON.parse(await readFile(join(layout, "blobs", "sha256", digest.slice(7)), "utf8")) as unknown;
}

export async function writeFlatTar(layout: string, out: string): Promise<void> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const manifest = (await readBlob(layout, index.manifests[0]!.digest)) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const config = (await readBlob(layout, manifest.config.digest)) as { rootfs: { diff_ids: string[] } };
  await flattenInto(
    {
      layers: manifest.layers.map((layer) => ({
        digest: layer.digest,
        mediaType: layer.mediaType,
        path: join(layout, "blobs", "sha256", layer.digest.slice(7)),
      })),
      overlay: [],
      diffIds: config.rootfs.diff_ids,
      allowForeign: false,
      logger: silentLogger,
    },
    (tar) => pipeline(tar, createWriteStream(out)),
  );
}
