/**
 * `push … oras://`: uploads a SIF file as Apptainer does (the artifact shape is in
 * sif-artifact.ts, the upload flow in upload.ts): the file is checked to be a SIF, hashed once,
 * then the config blob, the SIF blob (skipped when the registry already has it) and the manifest
 * go up in that order, so the tag never points at missing blobs.
 *
 * @example
 * ```ts
 * const pushed = await pushSif(client, { repository: "site/pytorch", tag: "24.01" }, "/data/pytorch.sif");
 * pushed.manifestDigest; // "sha256:…"
 * ```
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { readSif } from "../image/sif/reader.js";
import type { RegistryClient } from "../registry/client.js";
import { MediaType } from "../oci/types.js";
import { SregistryError } from "../util/errors.js";
import { SIF_CONFIG, SIF_CONFIG_DIGEST, sifArtifactManifest, sifCreated } from "./sif-artifact.js";
import { pushBlob, pushManifest, type PushBlobOptions } from "./upload.js";

export interface SifPushResult {
  /** Digest of the manifest the tag now names. */
  manifestDigest: string;
  /** Digest and size of the SIF layer. */
  layerDigest: string;
  size: number;
  /** False when the registry already had the SIF blob. */
  uploaded: boolean;
}

export interface PushSifOptions extends PushBlobOptions {
  /** The layer's `org.opencontainers.image.title`; default the file's name. */
  title?: string;
}

export async function pushSif(
  client: RegistryClient,
  target: { repository: string; tag: string },
  file: string,
  options: PushSifOptions = {},
): Promise<SifPushResult> {
  await readSif(file).catch((err: unknown) => {
    throw new SregistryError(
      `${file} is not a SIF image, cannot push it to oras:// (${(err as Error).message})`,
      {
        code: "NOT_AN_IMAGE",
      },
    );
  });
  const size = (await stat(file)).size;
  const digest = await sha256Of(file, options.signal);
  const created = await sifCreated(file);
  await pushBlob(
    client,
    target.repository,
    { digest: SIF_CONFIG_DIGEST, size: SIF_CONFIG.length, read: async () => SIF_CONFIG },
    options.signal ? { signal: options.signal } : {},
  );
  const handle = await open(file, "r");
  let uploaded: boolean;
  try {
    uploaded = await pushBlob(
      client,
      target.repository,
      { digest, size, read: (start, end) => readRange(handle, start, end) },
      options,
    );
  } finally {
    await handle.close();
  }
  const manifest = sifArtifactManifest({ digest, size, title: options.title ?? basename(file), created });
  const manifestDigest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
  const reported = await pushManifest(
    client,
    target.repository,
    target.tag,
    manifest,
    MediaType.OciManifest,
    options.signal,
  );
  if (reported !== undefined && reported !== manifestDigest) {
    throw new SregistryError(
      `${client.registry} stored the manifest of ${target.repository}:${target.tag} under another digest`,
      { code: "DIGEST_MISMATCH" },
    );
  }
  return { manifestDigest, layerDigest: digest, size, uploaded };
}

async function sha256Of(file: string, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, signal ? { signal } : {})) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

async function readRange(
  handle: import("node:fs/promises").FileHandle,
  start: number,
  end: number,
): Promise<Buffer> {
  const buffer = Buffer.alloc(end - start);
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
    if (bytesRead === 0)
      throw new SregistryError("the SIF file shrank while it was being pushed", { code: "PUSH" });
    done += bytesRead;
  }
  return buffer;
}
