/**
 * A mirror that serves wrong bytes does not fail the pull: a real distribution registry in proxy
 * mode in front of the nvcr.io-like token registry, with an interceptor on the mirror's front that
 * serves, instead of what the proxy has,
 * - the tag's manifest with a forged body (and the true `Docker-Content-Digest`),
 * - a 9 MiB layer (larger than what is checked in memory, so it is checked as it streams) with
 *   one byte changed,
 * - a small layer cut short (the connection closed half-way).
 * The config blob is served honestly by the proxy there; a second image's config blob is served as
 * 9 MiB of other bytes (past the in-memory check, so it streams and runs past the config's size).
 * The pull must succeed, give the SIF a clean
 * pull (straight from the origin) gives, fetch the refused content from the origin, name the
 * mirror in `--debug`, and leave only verified blobs (and no temp file) in the cache.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-mirror-hostile
 * ```
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../harness/cli.js";
import { pushImage, randomBytes } from "../harness/fixtures.js";
import { nvidiaEnv, successPath } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

interface StoredManifest {
  config: { digest: string };
  layers: { digest: string; size: number }[];
}

describe("pull through a mirror that serves wrong bytes", () => {
  let origin: RegistryServer;
  let mirror: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;
  let stored: StoredManifest;
  let manifestBytes: Buffer;

  before(async () => {
    origin = await startRegistry({ auth: "token" });
    tmp = await tmpDir("pull-mirror-hostile-");
    await pushImage(origin, "nvidia/app:1", {
      layers: [
        { entries: [{ path: "big.bin", content: randomBytes(9 * 1024 * 1024, "big") }] },
        { entries: [{ path: "small.bin", content: randomBytes(200_000, "small") }] },
      ],
      config: { Cmd: ["/bin/sh"] },
    });
    const res = await origin.adminFetch("/v2/nvidia/app/manifests/1", {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    manifestBytes = Buffer.from(await res.arrayBuffer());
    stored = JSON.parse(manifestBytes.toString()) as StoredManifest;
    mirror = await startRegistry({
      auth: "anonymous",
      proxy: { remoteUrl: origin.url, username: origin.username, password: origin.password },
    });
    const conf = join(tmp.path, "registries.conf");
    await writeFile(
      conf,
      `[[registry]]\nprefix = "${origin.host}"\n[[registry.mirror]]\nlocation = "${mirror.host}"\ninsecure = true\n`,
    );
    const daemonJson = join(tmp.path, "daemon.json");
    await writeFile(daemonJson, "{}");
    env = {
      ...nvidiaEnv(origin),
      CONTAINERS_REGISTRIES_CONF: conf,
      SREGISTRY_DOCKER_DAEMON_JSON: daemonJson,
    };
  });

  after(async () => {
    await mirror?.stop();
    await origin?.stop();
    await tmp?.cleanup();
  });

  it("falls back to the origin for every refused blob and manifest; the SIF is the clean one", async () => {
    const [big, small] = stored.layers as [StoredManifest["layers"][0], StoredManifest["layers"][0]];
    const blob = async (digest: string) =>
      Buffer.from(await (await origin.adminFetch(`/v2/nvidia/app/blobs/${digest}`)).arrayBuffer());
    const corrupted = await blob(big.digest);
    corrupted[corrupted.length >> 1] = 0xff - corrupted[corrupted.length >> 1]!;
    const smallBytes = await blob(small.digest);
    const forged = Buffer.from(manifestBytes.toString().replace("{", '{"annotations":{"forged":"yes"},'));
    const manifestDigest = `sha256:${sha256(manifestBytes)}`;
    const served: string[] = [];
    mirror.intercept = (req, res) => {
      if (req.method !== "GET") return false;
      if (req.url === "/v2/nvidia/app/manifests/1") {
        served.push("manifest");
        res.writeHead(200, {
          "content-type": "application/vnd.oci.image.manifest.v1+json",
          "docker-content-digest": manifestDigest,
          "content-length": String(forged.length),
        });
        res.end(forged);
        return true;
      }
      if (req.url === `/v2/nvidia/app/blobs/${big.digest}`) {
        served.push("big");
        res.writeHead(200, { "content-length": String(corrupted.length) });
        res.end(corrupted);
        return true;
      }
      if (req.url === `/v2/nvidia/app/blobs/${small.digest}`) {
        served.push("small");
        res.writeHead(200, { "content-length": String(smallBytes.length) });
        res.write(smallBytes.subarray(0, smallBytes.length >> 1), () => res.destroy());
        return true;
      }
      return false;
    };

    const clean = await runCli(["pull", "nvidia://app:1"], {
      env: { ...env, SREGISTRY_MIRRORS: "none" },
      baseDir: join(tmp.path, "clean"),
    });
    assert.equal(clean.code, 0, clean.stderr.slice(-3000));

    const from = origin.requests.length;
    const userDir = join(tmp.path, "victim");
    const run = await runCli(["--debug", "pull", "nvidia://app:1"], { env, baseDir: userDir });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.equal(
      sha256(await readFile(successPath(run.stdout))),
      sha256(await readFile(successPath(clean.stdout))),
      "the same SIF as a pull straight from the origin",
    );
    assert.deepEqual(served.sort(), ["big", "manifest", "small"], "the mirror was asked once for each");

    const originGets = (path: string) =>
      origin.requests.slice(from).filter((r) => r.method === "GET" && r.path.endsWith(path)).length;
    assert.ok(originGets(`/blobs/${big.digest}`) >= 1, "the origin served the corrupted blob");
    assert.ok(originGets(`/blobs/${small.digest}`) >= 1, "the origin served the truncated blob");
    assert.ok(originGets("/manifests/1") >= 1, "the origin served the forged manifest");

    const badLines = run.stderr.split("\n").filter((l) => l.includes(`mirror ${mirror.host} served`));
    assert.ok(badLines.some((l) => l.includes(`blob ${big.digest}`) && l.includes("whose digest is")));
    assert.ok(badLines.some((l) => l.includes(`blob ${small.digest}`) && l.includes("broke after")));
    assert.ok(badLines.some((l) => l.includes("manifest nvidia/app:1") && l.includes("whose digest is")));
    assert.match(
      run.stderr,
      new RegExp(`blob ${stored.config.digest} of nvidia/app: from mirror ${mirror.host}`),
    );

    const blobs = join(userDir, ".singularity", "sregistry", "blobs");
    const names = await readdir(join(blobs, "sha256"));
    assert.deepEqual(
      names.sort(),
      [stored.config.digest, big.digest, small.digest].map((d) => d.slice(7)).sort(),
    );
    for (const name of names) {
      assert.equal(sha256(await readFile(join(blobs, "sha256", name))), name, "only verified blobs are kept");
    }
    assert.deepEqual(await readdir(join(blobs, "tmp")), [], "no temp file is left");
  });

  it("falls back to the origin for a config blob the mirror answers with more than 8 MiB", async () => {
    await pushImage(origin, "nvidia/cfg:1", {
      layers: [{ entries: [{ path: "c.bin", content: randomBytes(10_000, "cfg") }] }],
      config: { Cmd: ["/bin/true"] },
    });
    const res = await origin.adminFetch("/v2/nvidia/cfg/manifests/1", {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    const { config } = (await res.json()) as StoredManifest;
    const junk = randomBytes(9 * 1024 * 1024, "junk");
    let servedJunk = 0;
    mirror.intercept = (req, reply) => {
      if (req.method !== "GET" || req.url !== `/v2/nvidia/cfg/blobs/${config.digest}`) return false;
      servedJunk++;
      reply.writeHead(200, { "content-length": String(junk.length) });
      reply.end(junk);
      return true;
    };
    const from = origin.requests.length;
    const run = await runCli(["--debug", "pull", "nvidia://cfg:1"], { env, baseDir: join(tmp.path, "cfg") });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(successPath(run.stdout));
    assert.equal(servedJunk, 1, "the mirror was asked once for the config");
    const originConfigGets = origin.requests
      .slice(from)
      .filter((r) => r.method === "GET" && r.path.endsWith(`/blobs/${config.digest}`)).length;
    assert.ok(originConfigGets >= 1, "the origin served the config");
    assert.ok(
      run.stderr
        .split("\n")
        .some(
          (l) =>
            l.includes(`mirror ${mirror.host} served a body longer than the config`) &&
            l.includes(config.digest),
        ),
      "the refused config is named in --debug",
    );
  });
});

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
