/**
 * `sregistry pull` of images whose layers are consistent at the blob level (every blob matches its
 * digest) but not at the content level, through the whole CLI against a local registry:
 * - a layer whose uncompressed tar does not hash to the config's `rootfs.diff_ids` entry;
 * - decompression bombs: a gzip (and, with the zstd tool, a zstd) layer of 256 MiB of zeros,
 *   refused under a low `SREGISTRY_INFLATE_FLOOR` and pulled once the floor is raised.
 * Each refusal is one error line naming the layer, and leaves no image file, temp file or catalog
 * row behind (the verified blobs may stay in the cache: they are what the registry serves).
 * Images are pushed with the registry's HTTP API, so their configs can say anything.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-layer-checks
 * ```
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { createGzip, gzipSync } from "node:zlib";
import { tarLayer } from "../../src/image/flatten/flatten.testing.js";
import { runCli } from "../harness/cli.js";
import { dockerEnv, successPath } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

const GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd";
const BOMB_BYTES = 256 * 1024 * 1024;

const sha256 = (data: Buffer): string => "sha256:" + createHash("sha256").update(data).digest("hex");

interface RawLayer {
  blob: Buffer;
  mediaType: string;
  diffId: string;
}

/** Uploads one blob (monolithic: POST, then PUT with the digest). */
async function putBlob(server: RegistryServer, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const started = await server.adminFetch(`/v2/${repo}/blobs/uploads/`, { method: "POST" });
  assert.equal(started.status, 202, await started.text());
  const location = new URL(started.headers.get("location")!, "http://127.0.0.1");
  location.searchParams.set("digest", digest);
  const put = await server.adminFetch(location.pathname + location.search, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: data,
  });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

/** Pushes an OCI image whose config lists `diffIds` (given, not computed) as `repo:tag`. */
async function pushRaw(server: RegistryServer, repoTag: string, layers: RawLayer[], diffIds?: string[]) {
  const [repo, tag] = repoTag.split(":") as [string, string];
  const config = Buffer.from(
    JSON.stringify({
      created: "2024-01-02T03:04:05Z",
      os: "linux",
      architecture: "amd64",
      config: { Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: diffIds ?? layers.map((l) => l.diffId) },
    }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: await putBlob(server, repo, config),
      size: config.length,
    },
    layers: [] as { mediaType: string; digest: string; size: number }[],
  };
  for (const layer of layers) {
    const digest = await putBlob(server, repo, layer.blob);
    manifest.layers.push({ mediaType: layer.mediaType, digest, size: layer.blob.length });
  }
  const res = await server.adminFetch(`/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": manifest.mediaType },
    body: JSON.stringify(manifest),
  });
  assert.equal(res.status, 201, await res.text());
}

async function gzipLayer(entries: Parameters<typeof tarLayer>[0]): Promise<RawLayer> {
  const tar = await tarLayer(entries);
  return { blob: gzipSync(tar), mediaType: GZIP_LAYER, diffId: sha256(tar) };
}

/** A tar holding one file of `size` zeros, produced in 1 MiB pieces (never held in memory). */
function* zerosTar(size: number, header: Buffer): Generator<Buffer> {
  yield header;
  const piece = Buffer.alloc(1024 * 1024);
  for (let left = size; left > 0; left -= piece.length) yield piece.subarray(0, Math.min(left, piece.length));
  yield Buffer.alloc(1024); // end-of-archive marker
}

/** A tar header for a regular file `name` of `size` bytes. */
async function fileHeader(name: string, size: number): Promise<Buffer> {
  const header = Buffer.from((await tarLayer([{ name, body: "" }])).subarray(0, 512));
  header.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return header;
}

/** Streams the zeros tar through gzip or the zstd tool; hashes the tar on the way. */
async function zerosLayer(compression: "gzip" | "zstd"): Promise<RawLayer> {
  const hash = createHash("sha256");
  const header = await fileHeader("zeros", BOMB_BYTES);
  const source = Readable.from(
    (function* () {
      for (const piece of zerosTar(BOMB_BYTES, header)) {
        hash.update(piece);
        yield piece;
      }
    })(),
  );
  const chunks: Buffer[] = [];
  if (compression === "gzip") {
    const collect = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await pipeline(source, createGzip({ level: 9 }), collect);
  } else {
    const child = spawn("zstd", ["-q", "-c", "-19"], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await pipeline(source, child.stdin);
    assert.equal(await exited, 0);
  }
  const blob = Buffer.concat(chunks);
  return {
    blob,
    mediaType: compression === "gzip" ? GZIP_LAYER : ZSTD_LAYER,
    diffId: `sha256:${hash.digest("hex")}`,
  };
}

/** Files (not directories) under `dir`, relative. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

async function catalogRows(base: string): Promise<number> {
  const db = join(base, ".singularity", "sregistry.db");
  if (!existsSync(db)) return 0;
  return Number((await run("sqlite3", [db, "SELECT count(*) FROM container"])).stdout.trim());
}

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("ERROR"));
}

describe("pull: layer content checks", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;
  let hasZstd = false;
  let bombs: { gzip: RawLayer; zstd?: RawLayer };
  let good: RawLayer;
  let lied: RawLayer;
  let wrongDiffId: string;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-layer-checks-");
    env = dockerEnv(server);
    hasZstd = (await run("sh", ["-c", "command -v zstd"]).catch(() => ({ stdout: "" }))).stdout.trim() !== "";
    good = await gzipLayer([{ name: "bin/sh", body: "#!/bin/sh\n", mode: 0o755 }]);
    lied = await gzipLayer([{ name: "etc/motd", body: "what the blob holds\n" }]);
    wrongDiffId = sha256(await tarLayer([{ name: "etc/motd", body: "what the config says\n" }]));
    await pushRaw(server, "library/diffid:1", [good, lied], [good.diffId, wrongDiffId]);
    bombs = { gzip: await zerosLayer("gzip") };
    await pushRaw(server, "library/gzbomb:1", [good, bombs.gzip]);
    if (hasZstd) {
      bombs.zstd = await zerosLayer("zstd");
      await pushRaw(server, "library/zstdbomb:1", [good, bombs.zstd]);
    }
  });

  after(async () => {
    await server?.stop();
    await tmp?.cleanup();
  });

  /** Pulls into a fresh home; returns the result and what the pull left in storage and catalog. */
  async function pull(name: string, args: string[], extraEnv: Record<string, string> = {}) {
    const base = join(tmp.path, name);
    const result = await runCli(["pull", ...args], {
      env: { ...env, ...extraEnv },
      baseDir: base,
      timeoutMs: 120_000,
    });
    const stored = await filesUnder(join(base, ".singularity", "shub"));
    return { result, base, stored, rows: await catalogRows(base) };
  }

  it("refuses a layer whose uncompressed tar does not match its diff_id, keeping nothing", async () => {
    const { result, stored, rows } = await pull("diffid", ["docker://library/diffid:1"]);
    assert.notEqual(result.code, 0);
    const errors = errorLines(result.stderr);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0]!, new RegExp(`layer 2 of 2 \\(${sha256(lied.blob)}\\)`));
    assert.match(errors[0]!, new RegExp(`uncompressed tar is ${lied.diffId}`));
    assert.match(errors[0]!, new RegExp(`rootfs\\.diff_ids\\[1\\] is ${wrongDiffId}`));
    assert.doesNotMatch(result.stdout, /Success/);
    assert.deepEqual(stored, []);
    assert.equal(rows, 0);
  });

  it("refuses it for a --sandbox too, creating nothing there", async () => {
    const target = join(tmp.path, "sandbox-target");
    const { result, stored, rows } = await pull("diffid-sandbox", [
      "--sandbox",
      target,
      "docker://library/diffid:1",
    ]);
    assert.notEqual(result.code, 0);
    assert.match(errorLines(result.stderr).join("\n"), /layer 2 of 2 .*does not match the image config/);
    assert.deepEqual(await filesUnder(target), []);
    assert.deepEqual(stored, []);
    assert.equal(rows, 0);
  });

  // The error names the bound it stopped at; the timeout is only a hang guard.
  it("stops a gzip bomb at the configured bound, keeping nothing", { timeout: 120_000 }, async () => {
    assert.ok(bombs.gzip.blob.length < 300_000, `gzip of zeros is ${bombs.gzip.blob.length} bytes`);
    const { result, stored, rows } = await pull("gzbomb", ["docker://library/gzbomb:1"], {
      SREGISTRY_INFLATE_FLOOR: "32M",
    });
    assert.notEqual(result.code, 0);
    const errors = errorLines(result.stderr);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(
      errors[0]!,
      new RegExp(`layer 2 of 2 \\(${sha256(bombs.gzip.blob)}\\) inflates to more than 34 MB`),
    );
    assert.match(
      errors[0]!,
      /decompression bomb.*SREGISTRY_INFLATE_RATIO \(now 100\) or SREGISTRY_INFLATE_FLOOR/,
    );
    assert.deepEqual(stored, []);
    assert.equal(rows, 0);
  });

  it("pulls the same image once the floor is raised above its size", async () => {
    const { result, stored, rows } = await pull("gzbomb-allowed", ["docker://library/gzbomb:1"], {
      SREGISTRY_INFLATE_FLOOR: "300M",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(successPath(result.stdout)));
    assert.equal(stored.length, 1);
    assert.equal(rows, 1);
  });

  it("stops a zstd bomb by the ratio to its compressed size", async (t) => {
    if (!hasZstd || bombs.zstd === undefined) return t.skip("zstd is not installed");
    const compressed = bombs.zstd.blob.length;
    assert.ok(compressed < 20_000, `zstd of zeros is ${compressed} bytes`);
    const { result, stored, rows } = await pull("zstdbomb", ["docker://library/zstdbomb:1"], {
      SREGISTRY_INFLATE_FLOOR: "1M",
      SREGISTRY_INFLATE_RATIO: "1000",
    });
    assert.notEqual(result.code, 0);
    const errors = errorLines(result.stderr);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(
      errors[0]!,
      new RegExp(`layer 2 of 2 \\(${sha256(bombs.zstd.blob)}\\) inflates to more than`),
    );
    assert.match(errors[0]!, /1000 × its compressed .*SREGISTRY_INFLATE_RATIO/);
    assert.deepEqual(stored, []);
    assert.equal(rows, 0);
  });
});
