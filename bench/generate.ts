/**
 * Writes a large benchmark image as an OCI layout, streaming (nothing held in memory): `layers`
 * gzip layers of mixed compressible text and incompressible random data, plus many small files,
 * so both the squashfs compressor and per-entry metadata handling are exercised.
 *
 * @example
 * ```ts
 * await generateImage("/tmp/layout", { layers: 15, bytesPerLayer: 40 << 20 });
 * ```
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import tar from "tar-stream";

export interface GenerateOptions {
  layers: number;
  bytesPerLayer: number;
  smallFilesPerLayer?: number;
}

const WORDS = (
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et " +
  "dolore magna aliqua tensor cuda kernel layer gradient python library module import return value"
).split(" ");

/** Deterministic pseudo-random text (xorshift), fast enough to make hundreds of MB. */
function text(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 1;
  let i = 0;
  while (i < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const word = WORDS[(x >>> 0) % WORDS.length]!;
    i += out.write(word + ((x & 15) === 0 ? "\n" : " "), i);
  }
  return out;
}

interface BlobInfo {
  digest: string;
  size: number;
  diffId?: string;
}

function hashing(hash: ReturnType<typeof createHash>, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/** pigz (parallel) when installed, else gzip: only the benchmark's set-up speed differs. */
function gzipCommand(): string {
  return spawnSync("pigz", ["--version"], { stdio: "ignore" }).error === undefined ? "pigz" : "gzip";
}

async function writeLayer(blobs: string, index: number, options: GenerateOptions): Promise<BlobInfo> {
  const pack = tar.pack();
  const diffHash = createHash("sha256");
  const blobHash = createHash("sha256");
  const blobCount = { bytes: 0 };
  const tmp = join(blobs, `layer-${index}.tmp`);
  const gzip = spawn(gzipCommand(), ["-6", "-c"], { stdio: ["pipe", "pipe", "inherit"] });
  const written = pipeline(gzip.stdout, hashing(blobHash, blobCount), createWriteStream(tmp));
  const fed = pipeline(pack, hashing(diffHash, { bytes: 0 }), gzip.stdin);

  const dir = `opt/layer${String(index).padStart(2, "0")}`;
  pack.entry({ name: dir, type: "directory", mode: 0o755 });
  const small = options.smallFilesPerLayer ?? 2000;
  pack.entry({ name: `${dir}/small`, type: "directory", mode: 0o755 });
  for (let i = 0; i < small; i++) {
    pack.entry({ name: `${dir}/small/f${i}.txt`, mode: 0o644 }, text(200 + (i % 1800), index * 100000 + i));
  }
  const chunk = 4 << 20;
  let remaining = options.bytesPerLayer;
  let file = 0;
  while (remaining > 0) {
    const size = Math.min(chunk, remaining);
    const body = file % 2 === 0 ? randomBytes(size) : text(size, index * 1000 + file);
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        { name: `${dir}/data${file}.${file % 2 === 0 ? "bin" : "txt"}`, mode: 0o644 },
        body,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    remaining -= size;
    file++;
  }
  pack.finalize();
  await Promise.all([fed, written]);
  const digest = `sha256:${blobHash.digest("hex")}`;
  await rename(tmp, join(blobs, digest.slice(7)));
  return { digest, size: blobCount.bytes, diffId: `sha256:${diffHash.digest("hex")}` };
}

async function writeJson(blobs: string, value: unknown): Promise<BlobInfo> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await writeFile(join(blobs, digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** Generates the layout at `dir` with tag `bench`; returns the total compressed layer bytes. */
export async function generateImage(dir: string, options: GenerateOptions): Promise<number> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const layers: BlobInfo[] = [];
  for (let i = 0; i < options.layers; i++) layers.push(await writeLayer(blobs, i, options));
  const config = await writeJson(blobs, {
    architecture: "amd64",
    os: "linux",
    created: "2026-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  });
  const manifest = await writeJson(blobs, {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: layers.map((l) => ({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: l.digest,
      size: l.size,
    })),
  });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifest.digest,
          size: manifest.size,
          annotations: { "org.opencontainers.image.ref.name": "bench" },
        },
      ],
    }),
  );
  return layers.reduce((sum, l) => sum + l.size, 0);
}
