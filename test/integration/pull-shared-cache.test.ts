/**
 * Many pullers, one blob cache: 16 processes that share only the cache directory (each its own
 * HOME, TMPDIR and catalog, as 16 nodes with a shared scratch would) pull one image at once. Counted
 * at the registry's logging front, each blob (layers and config) is fetched exactly once, and all
 * 16 SIFs are identical. A lock left by a node that died (another hostname, so no pid check can
 * help) is taken over once its lease runs out, and the pull completes.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-shared-cache
 * ```
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../harness/cli.js";
import { pushImage, randomBytes, type PushResult } from "../harness/fixtures.js";
import { blobGets, dockerEnv, successPath } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

const PULLERS = 16;

describe("pull: a blob cache shared by many processes and hosts", { timeout: 600_000 }, () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let image: PushResult;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-shared-cache-");
    image = await pushImage(server, "library/shared:1", {
      layers: [
        { entries: [{ path: "data/a.bin", content: randomBytes(256 << 10, "shared-a") }] },
        { entries: [{ path: "data/b.txt", content: "second layer\n" }] },
      ],
    });
  });

  after(async () => {
    await server?.stop();
    await tmp?.cleanup();
  });

  /** Blob digests of the pushed image: its config and layers. */
  const blobs = () => {
    const built = image.layout.images[0]!;
    return [built.configDigest, ...built.layers.map((l) => l.digest)];
  };

  it(`${PULLERS} concurrent cold pulls fetch each blob once and build identical SIFs`, async () => {
    const cache = join(tmp.path, "shared-cache");
    await mkdir(cache);
    await chmod(cache, 0o2770); // group-shared: blobs re-verified by digest, setgid directories
    const from = server.requests.length;
    const env = { ...dockerEnv(server), SINGULARITY_CACHEDIR: cache };
    const results = await Promise.all(
      Array.from({ length: PULLERS }, (_, i) =>
        runCli(["pull", "docker://library/shared:1"], {
          env,
          baseDir: join(tmp.path, `node${i}`),
          timeoutMs: 300_000,
        }),
      ),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const gets = blobGets(server, from);
    for (const digest of blobs()) {
      assert.equal(
        gets.filter((p) => p.endsWith(digest)).length,
        1,
        `one GET of ${digest} (all: ${gets.length})`,
      );
    }
    assert.equal(gets.length, blobs().length, `no other blob requests: ${gets.join(" ")}`);
    const hashes = await Promise.all(
      results.map(async (r) =>
        createHash("sha256")
          .update(await readFile(successPath(r.stdout)))
          .digest("hex"),
      ),
    );
    assert.equal(new Set(hashes).size, 1, "16 identical SIFs");
    assert.equal((await stat(join(cache, "sregistry", "blobs", "sha256"))).mode & 0o7777, 0o2770);
  });

  it("takes over the lock of a dead node once its lease runs out, and completes the pull", async () => {
    const cache = join(tmp.path, "cache-with-stale-lock");
    const locks = join(cache, "sregistry", "blobs", "locks");
    await mkdir(locks, { recursive: true });
    const layer = image.layout.images[0]!.layers[0]!.digest;
    const leaseEnds = Date.now() + 2_000;
    // The dead node's pid may well exist here (pid 1 always does): only the lease may decide.
    const stale = {
      pid: 1,
      hostname: "node-that-died.cluster",
      token: "0dead",
      created: 0,
      expires: leaseEnds,
    };
    await writeFile(join(locks, `${layer.slice(7)}.lock`), JSON.stringify(stale));
    const from = server.requests.length;
    const result = await runCli(["pull", "docker://library/shared:1"], {
      env: { ...dockerEnv(server), SINGULARITY_CACHEDIR: cache },
      baseDir: join(tmp.path, "survivor"),
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() >= leaseEnds, "the lease was honoured until it ran out");
    assert.equal(blobGets(server, from).filter((p) => p.endsWith(layer)).length, 1);
  });
});
