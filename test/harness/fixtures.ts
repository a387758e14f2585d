/**
 * Fixture images described in code, written as OCI image layouts and pushed to a test registry with
 * skopeo (an independent client), so our own puller is tested against content it did not produce.
 *
 * Layers are tars built with tar-stream (PAX for long names and xattrs), compressed with gzip, zstd or
 * not at all. Defaults are fixed (mtime, `created`) so the same description gives the same digests.
 *
 * @example
 * ```ts
 * const server = await startRegistry({ auth: "basic" });
 * const pushed = await pushImage(server, "library/sample:1", sampleImage());
 * pushed.manifestDigest; // "sha256:..." as stored by the registry
 * const multi = await pushImage(server, "library/multi:1", multiPlatformIndex());
 * ```
 */
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack, type Header } from "tar-stream";
import type { ContainerConfig, Descriptor, ImageConfig, Platform } from "../../src/oci/types.js";
import type { Digest } from "../../src/oci/digest.js";
import type { RegistryServer } from "./registry-server.js";
import { credsArgs, run, serverSecrets, tmpDir } from "./tools.js";

export type FixtureEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface FixtureEntry {
  /** A leading "/" is dropped ("/bin/sh" → "bin/sh"); anything else, "../" included, is kept as written. */
  path: string;
  type?: FixtureEntryType;
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Symlink target, or for a hardlink the path of the earlier entry. */
  linkname?: string;
  mtime?: Date;
  /** Extra PAX records, e.g. `{ "SCHILY.xattr.user.foo": "bar" }`. */
  pax?: Record<string, string>;
  devmajor?: number;
  devminor?: number;
}

export type FixtureLayer = { entries: FixtureEntry[] } | { rawTar: Buffer };

export type FixtureCompression = "gzip" | "none" | "zstd";

export interface FixtureImage {
  layers: FixtureLayer[];
  config?: ContainerConfig;
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  compression?: FixtureCompression;
}

export interface FixtureIndex {
  manifests: FixtureImage[];
}

export interface BuiltLayer {
  digest: Digest;
  diffId: Digest;
  size: number;
  mediaType: string;
}

export interface BuiltImage {
  manifestDigest: Digest;
  manifest: Buffer;
  configDigest: Digest;
  config: ImageConfig;
  layers: BuiltLayer[];
  platform: Platform;
}

export interface BuiltLayout {
  dir: string;
  /** The tag in index.json (`org.opencontainers.image.ref.name`). */
  tag: string;
  /** Digest and media type of what the tag points at (an index for a FixtureIndex). */
  digest: Digest;
  mediaType: string;
  images: BuiltImage[];
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPES: Record<FixtureCompression, string> = {
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  none: "application/vnd.oci.image.layer.v1.tar",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
};
/** Default timestamp of entries and images, so fixtures are reproducible. */
export const FIXTURE_TIME = new Date("2024-01-02T03:04:05Z");

export function isIndex(image: FixtureImage | FixtureIndex): image is FixtureIndex {
  return "manifests" in image;
}

/** Writes an OCI image layout for `image` into `dir` (created if needed), tagged `tag`. */
export async function buildOciLayout(
  dir: string,
  image: FixtureImage | FixtureIndex,
  options: { tag?: string } = {},
): Promise<BuiltLayout> {
  const tag = options.tag ?? "latest";
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const images: BuiltImage[] = [];
  for (const one of isIndex(image) ? image.manifests : [image]) images.push(await writeImage(dir, one));
  let top: Descriptor;
  if (isIndex(image)) {
    const manifests = images.map((img) => ({
      ...descriptorOf(OCI_MANIFEST, img.manifest),
      platform: img.platform,
    }));
    const indexBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
    top = await writeBlob(dir, OCI_INDEX, indexBytes);
  } else {
    top = descriptorOf(OCI_MANIFEST, images[0]!.manifest);
  }
  const refName = { "org.opencontainers.image.ref.name": tag };
  const index = { schemaVersion: 2, manifests: [{ ...top, annotations: refName }] };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
  return { dir, tag, digest: top.digest, mediaType: top.mediaType, images };
}

async function writeImage(dir: string, image: FixtureImage): Promise<BuiltImage> {
  const compression = image.compression ?? "gzip";
  const layers: BuiltLayer[] = [];
  for (const layer of image.layers) {
    const tar = "rawTar" in layer ? layer.rawTar : await buildTar(layer.entries);
    const blob = await compress(tar, compression);
    const desc = await writeBlob(dir, LAYER_TYPES[compression], blob);
    layers.push({ digest: desc.digest, diffId: sha256(tar), size: desc.size, mediaType: desc.mediaType });
  }
  const platform: Platform = { os: image.os ?? "linux", architecture: image.architecture ?? "amd64" };
  if (image.variant) platform.variant = image.variant;
  const created = image.created ?? FIXTURE_TIME.toISOString();
  const config: ImageConfig = {
    created,
    ...platform,
    config: image.config ?? {},
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `fixture layer ${i}` })),
  };
  const configDesc = await writeBlob(dir, OCI_CONFIG, Buffer.from(JSON.stringify(config)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: configDesc,
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    }),
  );
  const manifestDesc = await writeBlob(dir, OCI_MANIFEST, manifest);
  return {
    manifestDigest: manifestDesc.digest,
    manifest,
    configDigest: configDesc.digest,
    config,
    layers,
    platform,
  };
}

type TarHeader = Partial<Header> & Pick<Header, "name">;

const TAR_TYPES: Record<FixtureEntryType, Header["type"]> = {
  file: "file",
  dir: "directory",
  symlink: "symlink",
  hardlink: "link",
  char: "character-device",
  block: "block-device",
  fifo: "fifo",
};

/** Builds an uncompressed tar from entries, in the order given. */
export function buildTar(entries: FixtureEntry[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tar = pack();
    const chunks: Buffer[] = [];
    tar.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    tar.on("end", () => resolve(Buffer.concat(chunks)));
    tar.on("error", reject);
    for (const entry of entries) {
      const header = tarHeader(entry);
      if (header.type === "file") tar.entry(header, Buffer.from(entry.content ?? ""));
      else tar.entry(header);
    }
    tar.finalize();
  });
}

function tarHeader(entry: FixtureEntry): TarHeader {
  const type = entry.type ?? "file";
  let name = entry.path.replace(/^\/+/, "");
  if (type === "dir" && !name.endsWith("/")) name += "/";
  const header: TarHeader = {
    name,
    type: TAR_TYPES[type],
    mode: entry.mode ?? (type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? FIXTURE_TIME,
  };
  if (entry.uname !== undefined) header.uname = entry.uname;
  if (entry.gname !== undefined) header.gname = entry.gname;
  if (entry.linkname !== undefined) {
    // Hardlink targets are archive paths (relative); symlink targets are kept as written.
    header.linkname = type === "hardlink" ? entry.linkname.replace(/^\/+/, "") : entry.linkname;
  }
  if (entry.pax) header.pax = entry.pax;
  if (entry.devmajor !== undefined) header.devmajor = entry.devmajor;
  if (entry.devminor !== undefined) header.devminor = entry.devminor;
  return header;
}

async function compress(tar: Buffer, compression: FixtureCompression): Promise<Buffer> {
  if (compression === "none") return tar;
  if (compression === "gzip") return gzipSync(tar);
  return (await run("zstd", ["-q", "-c", "-3"], { input: tar })).stdoutBuffer;
}

function descriptorOf(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, digest: sha256(data), size: data.length };
}

async function writeBlob(dir: string, mediaType: string, data: Buffer): Promise<Descriptor> {
  const desc = descriptorOf(mediaType, data);
  await writeFile(join(dir, "blobs", "sha256", desc.digest.slice("sha256:".length)), data);
  return desc;
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** `size` pseudo-random bytes, always the same for the same `seed` (AES-256-CTR keystream). */
export function randomBytes(size: number, seed: string | number = 0): Buffer {
  const key = createHash("sha256").update(`fixture-seed:${seed}`).digest();
  return createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

export type ManifestFormat = "oci" | "v2s2" | "v2s1";

export interface PushResult {
  /** Digest of the manifest (or index/list) as the registry stores it under the tag. */
  manifestDigest: Digest;
  /** Media type the registry reports for it. */
  mediaType: string;
  /** The layout that was pushed (digests there differ from the registry's after a format conversion). */
  layout: BuiltLayout;
}

/**
 * Builds `image` and pushes it with `skopeo copy` to `<server.host>/<repoTag>`; an index is pushed
 * with `--all`. With `format`, skopeo converts (v2s2: Docker schema 2, v2s1: signed schema 1).
 */
export async function pushImage(
  server: RegistryServer,
  repoTag: string,
  image: FixtureImage | FixtureIndex,
  options: { format?: ManifestFormat } = {},
): Promise<PushResult> {
  const tmp = await tmpDir("sregistry-fixture-");
  try {
    const layout = await buildOciLayout(join(tmp.path, "layout"), image);
    const args = ["copy", "--quiet", "--dest-tls-verify=false", ...credsArgs("--dest-creds", server)];
    if (isIndex(image)) args.push("--all");
    if (options.format) args.push("--format", options.format);
    if (!options.format || options.format === "oci") args.push("--preserve-digests");
    args.push(`oci:${layout.dir}:${layout.tag}`, `docker://${server.host}/${repoTag}`);
    await run("skopeo", args, { secrets: serverSecrets(server) });
    const { digest, mediaType } = await storedManifest(server, repoTag);
    return { manifestDigest: digest, mediaType, layout };
  } finally {
    await tmp.cleanup();
  }
}

export const ALL_MANIFEST_TYPES = [
  OCI_INDEX,
  OCI_MANIFEST,
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
  "application/vnd.docker.distribution.manifest.v1+json",
].join(", ");

/** Digest and media type the registry reports for `repo:tag` (HEAD straight to the registry). */
export async function storedManifest(
  server: RegistryServer,
  repoTag: string,
): Promise<{ digest: Digest; mediaType: string }> {
  const { repo, ref } = splitRepoRef(repoTag);
  const res = await server.adminFetch(`/v2/${repo}/manifests/${ref}`, {
    method: "HEAD",
    headers: { accept: ALL_MANIFEST_TYPES },
  });
  const digest = res.headers.get("docker-content-digest");
  if (res.status !== 200 || !digest) throw new Error(`HEAD ${repoTag}: status ${res.status}, no digest`);
  return { digest: digest as Digest, mediaType: res.headers.get("content-type") ?? "" };
}

/** "org/app:1" → { repo: "org/app", ref: "1" }; "org/app@sha256:..." → ref is the digest. */
export function splitRepoRef(repoRef: string): { repo: string; ref: string } {
  const at = repoRef.indexOf("@");
  if (at >= 0) return { repo: repoRef.slice(0, at), ref: repoRef.slice(at + 1) };
  const colon = repoRef.lastIndexOf(":");
  if (colon > repoRef.lastIndexOf("/"))
    return { repo: repoRef.slice(0, colon), ref: repoRef.slice(colon + 1) };
  return { repo: repoRef, ref: "latest" };
}

export const SAMPLE_ENV_VALUE = `hello "world" it's $HOME and \\back`;

/**
 * A tiny busybox-like image in two gzip layers: /bin/sh (a script), /bin/busybox → sh symlink,
 * /etc/os-release, /var/empty dir, a 64 KiB data file; layer 2 adds /etc/motd and /opt/app/hello.txt.
 */
export function sampleImage(overrides: Partial<FixtureImage> = {}): FixtureImage {
  return {
    layers: [
      {
        entries: [
          { path: "bin", type: "dir" },
          { path: "bin/sh", content: '#!/bin/sh\necho "sample shell $*"\n', mode: 0o755 },
          { path: "bin/busybox", type: "symlink", linkname: "sh" },
          { path: "etc", type: "dir" },
          { path: "etc/os-release", content: 'NAME="Sample Linux"\nID=sample\nVERSION_ID=1.0\n' },
          { path: "var", type: "dir" },
          { path: "var/empty", type: "dir", mode: 0o700 },
          { path: "usr/share/sample", type: "dir" },
          { path: "usr/share/sample/data.bin", content: randomBytes(64 * 1024, "sample") },
        ],
      },
      {
        entries: [
          { path: "etc/motd", content: "welcome to the sample image\n" },
          { path: "opt/app", type: "dir" },
          { path: "opt/app/hello.txt", content: "hello from layer 2\n", uid: 1000, gid: 1000 },
        ],
      },
    ],
    config: {
      Env: [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        `GREETING=${SAMPLE_ENV_VALUE}`,
      ],
      Entrypoint: ["/bin/sh"],
      Cmd: ["-c", "echo hi"],
      WorkingDir: "/opt/app",
      Labels: { "org.opencontainers.image.title": "sample", "com.example.quote": `it's "quoted"` },
    },
    ...overrides,
  };
}

/** The platforms of `multiPlatformIndex()`, in index order. */
export const MULTI_PLATFORMS: Platform[] = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
  { os: "linux", architecture: "arm", variant: "v7" },
  { os: "linux", architecture: "arm", variant: "v6" },
];

/** "linux/arm/v7" style name of a platform. */
export function platformName(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** An index of small images whose /etc/platform holds their platform name (e.g. "linux/arm/v7\n"). */
export function multiPlatformIndex(): FixtureIndex {
  return {
    manifests: MULTI_PLATFORMS.map((p) => ({
      os: p.os,
      architecture: p.architecture,
      ...(p.variant ? { variant: p.variant } : {}),
      layers: [{ entries: [{ path: "etc/platform", content: platformName(p) + "\n" }] }],
      config: { Env: [`PLATFORM=${platformName(p)}`], Cmd: ["/bin/sh"] },
    })),
  };
}
