/**
 * A pull without a cache (SINGULARITY_DISABLE_CACHE) keeps only a window of layers on disk with the
 * native writer (pull/layer-window.ts), driven by events, never by clocks, through the library's
 * `pull` against a local registry whose front records, at each blob request, which blobs the
 * throw-away store holds:
 * - layers of about one size: the request for layer k ≥ 1 comes only once layer k - 1 was
 *   downloaded, read and deleted, so the store holds no other layer then: scratch disk is the SIF
 *   plus one layer;
 * - the SIF is byte-identical to a pull with the cache;
 * - an image whose single pass restarts in two passes (a later layer deletes more than 64 MiB of
 *   stored content) fetches again, one at a time, the layers the second pass reads, and still
 *   gives the cached pull's SIF;
 * - tar2sqfs (which reads the layers twice) keeps every layer: no blob is requested twice.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-nocache-window
 * ```
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Context } from "../../src/api/context.js";
import { pull } from "../../src/api/pull.js";
import type { PullEvent } from "../../src/pull/events.js";
import type { PullOptions } from "../../src/pull/job.js";
import { isolatedEnv } from "../harness/cli.js";
import { pushImage, randomBytes, type FixtureImage } from "../harness/fixtures.js";
import { dockerEnv } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

const LAYERS = 5;

function layeredImage(): FixtureImage {
  const layer = (n: number) => ({
    entries: [
      { path: `data${n}`, type: "dir" as const },
      { path: `data${n}/random.bin`, type: "file" as const, content: randomBytes(300_000, `window${n}`) },
      { path: "shared.txt", type: "file" as const, content: Buffer.from(`written by layer ${n}\n`) },
    ],
  });
  return { layers: Array.from({ length: LAYERS }, (_, n) => layer(n)) };
}

/** Layer 1 deletes 65 MiB that layer 0 stored: over the 64 MiB floor, the single pass restarts. */
function restartingImage(): FixtureImage {
  return {
    layers: [
      {
        entries: [
          { path: "big.bin", type: "file", content: Buffer.alloc(65 * 1024 * 1024) },
          { path: "kept0.bin", type: "file", content: randomBytes(100_000, "kept0") },
        ],
      },
      {
        entries: [
          { path: ".wh.big.bin", type: "file", content: "" },
          { path: "kept1.bin", type: "file", content: randomBytes(100_000, "kept1") },
        ],
      },
      { entries: [{ path: "kept2.bin", type: "file", content: randomBytes(100_000, "kept2") }] },
    ],
  };
}

/** Layer 0 is not a tar: the build fails on it while later downloads wait for their window. */
function brokenImage(): FixtureImage {
  const image = layeredImage();
  image.layers[0] = { rawTar: Buffer.alloc(4096, "not a tar header ") };
  return image;
}

/** The digests of the complete blobs in the throw-away stores under `tmp` (partial files aside). */
async function storedBlobs(tmp: string): Promise<string[]> {
  if (!existsSync(tmp)) return [];
  const stores = (await readdir(tmp)).filter((name) => name.startsWith("sregistry-blobs-"));
  const blobs: string[] = [];
  for (const store of stores) {
    const dir = join(tmp, store, "sha256");
    if (existsSync(dir)) blobs.push(...(await readdir(dir)).map((hex) => `sha256:${hex}`));
  }
  return blobs;
}

/**
 * The layer index of each request, the first `racing` sorted: downloads that may run at once reach
 * the registry in any order (what the store held at each request is checked separately).
 */
function layerOrder(requests: BlobRequest[], digests: string[], racing: number): number[] {
  const order = requests.map((request) => digests.indexOf(request.digest));
  return [...order.slice(0, racing).sort((a, b) => a - b), ...order.slice(racing)];
}

interface BlobRequest {
  digest: string;
  /** Blobs in the throw-away store when the request came. */
  stored: string[];
  /** Layers whose download had ended (layer-done) when the request came. */
  done: string[];
}

describe("pull without a cache: a window of layers on disk", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let windowDigests: string[];
  let restartDigests: string[];
  let homes = 0;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-nocache-window-");
    const pushed = await pushImage(server, "library/window:1", layeredImage());
    windowDigests = pushed.layout.images[0]!.layers.map((layer) => layer.digest);
    await pushImage(server, "library/broken:1", brokenImage());
    const restart = await pushImage(server, "library/restart:1", restartingImage());
    restartDigests = restart.layout.images[0]!.layers.map((layer) => layer.digest);
  });

  after(async () => {
    server.intercept = undefined;
    await server?.stop();
    await tmp?.cleanup();
  });

  /** A fresh HOME and its context, with or without a cache. */
  function freshContext(disableCache: boolean): { ctx: Context; home: string } {
    const home = join(tmp.path, `home${homes++}`);
    const env = { ...isolatedEnv(home), ...dockerEnv(server) };
    if (disableCache) env.SINGULARITY_DISABLE_CACHE = "yes";
    return { ctx: new Context({ env, home }), home };
  }

  /** Pulls `image` recording every layer blob request; returns the SIF and the requests. */
  async function recordedPull(
    image: string,
    digests: string[],
    disableCache: boolean,
    options: PullOptions = {},
  ): Promise<{ sif: Buffer; requests: BlobRequest[] }> {
    const { ctx, home } = freshContext(disableCache);
    const requests: BlobRequest[] = [];
    const done: string[] = [];
    server.intercept = async (req) => {
      const digest = digests.find((d) => (req.url ?? "").endsWith(`/blobs/${d}`));
      if (req.method === "GET" && digest !== undefined) {
        // The image config is kept in the store too: it is small and read before any layer.
        const stored = (await storedBlobs(ctx.settings.tmpDir)).filter((blob) => digests.includes(blob));
        requests.push({ digest, stored, done: [...done] });
      }
      return false;
    };
    const onEvent = (event: PullEvent): void => {
      if (event.type === "layer-done") done.push(event.digest);
    };
    const file = join(home, "out.sif");
    try {
      await pull(ctx, image, { noCache: true, name: file, threads: digests.length, onEvent, ...options });
    } finally {
      server.intercept = undefined;
      ctx.close();
    }
    assert.deepEqual(await storedBlobs(ctx.settings.tmpDir), [], "the throw-away store is gone");
    assert.ok(requests.length > 0, "the layers were requested through the front");
    return { sif: await readFile(file), requests };
  }

  it("requests layer k only once layer k - 1 is read and deleted, and builds the cached pull's SIF", async () => {
    const image = "docker://library/window:1";
    const { sif, requests } = await recordedPull(image, windowDigests, true);
    assert.deepEqual(
      requests.map((request) => windowDigests.indexOf(request.digest)),
      [0, 1, 2, 3, 4],
      "each layer requested once, in order: no two of them fit in the window",
    );
    requests.forEach((request) => {
      const k = windowDigests.indexOf(request.digest);
      assert.deepEqual(request.stored, [], `at layer ${k}'s request no other layer is on disk`);
      if (k >= 1) {
        assert.ok(request.done.includes(windowDigests[k - 1]!), `layer ${k - 1} was downloaded first`);
      }
    });
    const cached = await recordedPull(image, windowDigests, false);
    assert.ok(sif.equals(cached.sif), "the same SIF as a pull with the cache");
  });

  it("fetches again, verified and one at a time, the layers a restarted build reads twice", async () => {
    const image = "docker://library/restart:1";
    const { sif, requests } = await recordedPull(image, restartDigests, true);
    // Pass 1 reads 0, 1, 2; the restart's second pass reads again every layer owning a kept file.
    assert.deepEqual(layerOrder(requests, restartDigests, 3), [0, 1, 2, 0, 1, 2]);
    for (const request of requests.slice(3)) {
      assert.deepEqual(request.stored, [], "each layer of the second pass was deleted after its read");
    }
    const cached = await recordedPull(image, restartDigests, false);
    // With the cache every layer downloads at once (in any order) and is read from it twice.
    assert.deepEqual(layerOrder(cached.requests, restartDigests, 3), [0, 1, 2], "the cache keeps the layers");
    assert.ok(sif.equals(cached.sif), "the restarted build gives the cached pull's SIF");
  });

  it("fails at once when the build fails while downloads wait for their window", async () => {
    const { ctx, home } = freshContext(true);
    try {
      await assert.rejects(
        pull(ctx, "docker://library/broken:1", { noCache: true, name: join(home, "broken.sif"), threads: 5 }),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, "LAYER_INVALID", err.message);
          assert.match(err.message, /layer 1 of 5/);
          return true;
        },
      );
      assert.deepEqual(await storedBlobs(ctx.settings.tmpDir), [], "the throw-away store is gone");
      assert.equal(existsSync(join(home, "broken.sif")), false);
    } finally {
      ctx.close();
    }
  });

  it("keeps every layer for tar2sqfs, which reads them twice", async () => {
    const { requests } = await recordedPull("docker://library/window:1", windowDigests, true, {
      builder: "tar2sqfs",
    });
    assert.deepEqual(requests.map((r) => r.digest).sort(), [...windowDigests].sort());
  });
});
