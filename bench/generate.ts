/**
 * Writes the benchmark images as OCI layouts (tag `bench`), streaming and reproducibly: the same
 * options give byte-identical blobs (seeded content, fixed mtimes, Node's gzip with no name or
 * time in its header), so a layout can be kept between runs and the figures compare.
 *
 * Two shapes:
 *   - `big`: `layers` layers of `bytesPerLayer` in 4 MiB files, half incompressible (seeded
 *     AES-CTR keystream), half text-like, plus `smallFilesPerLayer` small text files each;
 *   - `many`: `files` small files spread over `layers` layers in directories of 1,000, sized like
 *     a Python/CUDA library tree (5 % empty, 5 % the same boilerplate, 2 % of 8–64 KiB, the rest
 *     100 B–3 KiB), the shape where per-file costs dominate.
 *
 * @example
 * ```ts
 * await generateImage("/tmp/layout", { shape: "big", layers: 15, bytesPerLayer: 40 << 20 });
 * await generateImage("/tmp/many", { shape: "many", layers: 8, files: 320_000 });
 * ```
 */
import { createCipheriv, createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";

export type ImageShape =
  | { shape: "big"; layers: number; bytesPerLayer: number; smallFilesPerLayer?: number }
  | { shape: "many"; layers: number; files: number };

export interface GeneratedImage {
  /** Total compressed layer bytes. */
  compressedBytes: number;
  /** Uncompressed tar bytes of all layers. */
  tarBytes: number;
  /** Regular files in the image. */
  files: number;
  /** The largest compressed layer. */
  largestLayerBytes: number;
}

const WORDS = (
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et " +
  "dolore magna aliqua tensor cuda kernel layer gradient python library module import return value"
).split(" ");

/** Deterministic pseudo-random text (xorshift words). */
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

/** 8 MiB of text that file bodies are cut from at different offsets (so no two are equal). */
const TEXT_POOL = text(8 << 20, 12345);
const KEY = Buffer.alloc(32, 7);

/** Incompressible but reproducible bytes: the AES-256-CTR keystream for `seed`. */
function noise(size: number, seed: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed >>> 0, 0);
  return createCipheriv("aes-256-ctr", KEY, iv).update(Buffer.alloc(size));
}

/** `size` bytes of text unique to `seed`: a header line, then a slice of the pool. */
function textBody(size: number, seed: number): Buffer {
  const header = Buffer.from(`# ${seed}\n`);
  if (size <= header.length) return header.subarray(0, size);
  const length = size - header.length;
  const from = (Math.imul(seed, 2654435761) >>> 0) % (TEXT_POOL.length - length);
  return Buffer.concat([header, TEXT_POOL.subarray(from, from + length)]);
}

const BOILERPLATE = textBody(1024, 424242);
const MTIME = new Date("2026-01-01T00:00:00Z");

interface BlobInfo {
  digest: string;
  size: number;
  diffId?: string;
  tarBytes?: number;
  files?: number;
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

type Pack = ReturnType<typeof tar.pack>;

function add(pack: Pack, name: string, body?: Buffer): Promise<void> {
  const header = body
    ? { name, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }
    : { name, type: "directory" as const, mode: 0o755, mtime: MTIME, uid: 0, gid: 0 };
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (body) pack.entry(header, body, done);
    else pack.entry(header, done);
  });
}

async function bigLayer(pack: Pack, index: number, shape: ImageShape & { shape: "big" }): Promise<number> {
  const dir = `opt/layer${String(index).padStart(2, "0")}`;
  await add(pack, dir);
  await add(pack, `${dir}/small`);
  const small = shape.smallFilesPerLayer ?? 2000;
  for (let i = 0; i < small; i++) {
    await add(pack, `${dir}/small/f${i}.txt`, textBody(200 + (i % 1800), index * 100000 + i));
  }
  let remaining = shape.bytesPerLayer;
  let file = 0;
  while (remaining > 0) {
    const size = Math.min(4 << 20, remaining);
    const seed = index * 1000 + file;
    const body = file % 2 === 0 ? noise(size, seed) : textBody(size, seed);
    await add(pack, `${dir}/data${file}.${file % 2 === 0 ? "bin" : "txt"}`, body);
    remaining -= size;
    file++;
  }
  return small + file;
}

/** File sizes of the many-files image, from the file's number. */
function manySize(n: number): number {
  const h = Math.imul(n, 2654435761) >>> 0;
  const bucket = h % 100;
  if (bucket < 5) return 0;
  if (bucket < 10) return -1; // the shared boilerplate
  if (bucket < 12) return 8192 + (h % (56 << 10));
  return 100 + ((h >>> 8) % 2972);
}

async function manyLayer(pack: Pack, index: number, shape: ImageShape & { shape: "many" }): Promise<number> {
  const perLayer = Math.ceil(shape.files / shape.layers);
  const first = index * perLayer;
  const last = Math.min(shape.files, first + perLayer);
  const top = `usr/lib/python3/pkg${String(index).padStart(2, "0")}`;
  await add(pack, "usr");
  await add(pack, "usr/lib");
  await add(pack, "usr/lib/python3");
  await add(pack, top);
  for (let n = first; n < last; n++) {
    if ((n - first) % 1000 === 0) await add(pack, `${top}/m${Math.floor((n - first) / 1000)}`);
    const size = manySize(n);
    const body = size < 0 ? BOILERPLATE : textBody(size, n);
    await add(pack, `${top}/m${Math.floor((n - first) / 1000)}/f${n}.py`, body);
  }
  return last - first;
}

async function writeLayer(blobs: string, index: number, shape: ImageShape): Promise<BlobInfo> {
  const pack = tar.pack();
  const diffHash = createHash("sha256");
  const blobHash = createHash("sha256");
  const blobCount = { bytes: 0 };
  const tarCount = { bytes: 0 };
  const tmp = join(blobs, `layer-${index}.tmp`);
  const written = pipeline(
    pack,
    hashing(diffHash, tarCount),
    createGzip({ level: 6 }),
    hashing(blobHash, blobCount),
    createWriteStream(tmp),
  );
  const files =
    shape.shape === "big" ? await bigLayer(pack, index, shape) : await manyLayer(pack, index, shape);
  pack.finalize();
  await written;
  const digest = `sha256:${blobHash.digest("hex")}`;
  await rename(tmp, join(blobs, digest.slice(7)));
  return {
    digest,
    size: blobCount.bytes,
    diffId: `sha256:${diffHash.digest("hex")}`,
    tarBytes: tarCount.bytes,
    files,
  };
}

async function writeJson(blobs: string, value: unknown): Promise<BlobInfo> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await writeFile(join(blobs, digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** Two layers at a time: zlib compresses in the thread pool, so both cores work. */
async function writeLayers(blobs: string, shape: ImageShape): Promise<BlobInfo[]> {
  const layers: BlobInfo[] = new Array<BlobInfo>(shape.layers);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < shape.layers) {
      const index = next++;
      layers[index] = await writeLayer(blobs, index, shape);
    }
  };
  await Promise.all([worker(), worker()]);
  return layers;
}

/** Generates the layout at `dir` with tag `bench`. */
export async function generateImage(dir: string, shape: ImageShape): Promise<GeneratedImage> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const layers = await writeLayers(blobs, shape);
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
  return {
    compressedBytes: layers.reduce((sum, l) => sum + l.size, 0),
    tarBytes: layers.reduce((sum, l) => sum + (l.tarBytes ?? 0), 0),
    files: layers.reduce((sum, l) => sum + (l.files ?? 0), 0),
    largestLayerBytes: Math.max(...layers.map((l) => l.size)),
  };
}
