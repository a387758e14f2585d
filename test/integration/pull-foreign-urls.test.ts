/**
 * `sregistry pull --allow-foreign-layers` with layer URLs chosen by a hostile image author, through
 * the whole CLI and its production transport (no test override): a URL on this machine is never
 * contacted, the registry serves the layer instead, and when the registry lacks it too the error
 * names both failures. Every server here listens on 127.0.0.1.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-foreign-urls
 * ```
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerEnv, extractSifPartition, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

const NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

interface Layer {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
}

describe("pull: foreign layer URLs", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;
  let urlServer: Server;
  let urlBase: string;
  /** The same server by name: `localhost` is resolved by the system, then refused at connect. */
  let urlByName: string;
  const urlRequests: string[] = [];

  before(async () => {
    server = await startRegistry({ auth: "anonymous", layerUrls: true });
    tmp = await tmpDir("pull-foreign-urls-");
    env = dockerEnv(server);
    await pushImage(server, "library/sample:1", sampleImage());
    // Stands for the cloud metadata service or an internal host: it must never see a request.
    urlServer = createServer((req, res) => {
      urlRequests.push(req.url ?? "/");
      res.writeHead(200).end("metadata");
    });
    await new Promise<void>((resolve) => urlServer.listen(0, "127.0.0.1", resolve));
    urlBase = `http://127.0.0.1:${(urlServer.address() as AddressInfo).port}`;
    urlByName = urlBase.replace("127.0.0.1", "localhost");
  });

  after(async () => {
    urlServer?.close();
    await server?.stop();
    await tmp?.cleanup();
  });

  /** Pushes `library/sample:<tag>`: the sample's manifest with its second layer changed by `edit`. */
  async function pushForeign(tag: string, edit: (layer: Layer) => void): Promise<void> {
    const accept = { accept: "application/vnd.oci.image.manifest.v1+json" };
    const manifest = (await (
      await server.adminFetch("/v2/library/sample/manifests/1", { headers: accept })
    ).json()) as {
      layers: Layer[];
    };
    edit(manifest.layers[1]!);
    const put = await server.adminFetch(`/v2/library/sample/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: JSON.stringify(manifest),
    });
    assert.equal(put.status, 201, await put.text());
  }

  it("never contacts a layer URL on this machine; the registry serves the layer", async () => {
    await pushForeign("loopback-url", (layer) => {
      layer.mediaType = NONDISTRIBUTABLE;
      layer.urls = [`${urlByName}/latest/meta-data`, `${urlBase}/x`, "http://[::ffff:127.0.0.1]/x"];
    });
    const base = join(tmp.path, "loopback-url");
    const result = await runCli(["pull", "--allow-foreign-layers", "docker://library/sample:loopback-url"], {
      env,
      baseDir: base,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(urlRequests, []);
    const root = await extractSifPartition(successPath(result.stdout), join(tmp.path, "loopback-root"));
    assert.equal(await readFile(join(root, "etc/motd"), "utf8"), "welcome to the sample image\n");
  });

  it("names both failures when the URL is refused and the registry lacks the layer", async () => {
    await pushForeign("nowhere", (layer) => {
      layer.mediaType = NONDISTRIBUTABLE;
      layer.digest = `sha256:${"ab".repeat(32)}`;
      layer.urls = [`${urlByName}/layer.tar.gz?token=secret`, `${urlBase}/layer.tar.gz`];
    });
    const result = await runCli(["pull", "--allow-foreign-layers", "docker://library/sample:nowhere"], {
      env,
      baseDir: join(tmp.path, "nowhere"),
    });
    assert.notEqual(result.code, 0);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("ERROR"));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0]!, /blob unknown: .*library\/sample@sha256:(ab){32}/);
    assert.match(
      errors[0]!,
      /foreign URLs failed: http:\/\/localhost:\d+\/layer\.tar\.gz: localhost resolves to (127\.0\.0\.1|::1), not a global unicast address: loopback .*; http:\/\/127\.0\.0\.1:\d+\/layer\.tar\.gz: 127\.0\.0\.1 is not a global unicast address: loopback/,
    );
    assert.doesNotMatch(result.stderr, /secret/);
    assert.deepEqual(urlRequests, []);
  });
});
