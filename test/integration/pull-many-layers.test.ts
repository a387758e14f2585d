/**
 * A pull of an image with many layers downloaded at once (the registry front serves every blob
 * slowly, so all nine workers are in flight together) prints nothing on stderr with `--quiet`: no
 * `MaxListenersExceededWarning` from listeners piling up on one shared AbortSignal.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-many-layers
 * ```
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCli } from "../harness/cli.js";
import { dockerEnv, slowBlobs, successPath } from "../harness/pull.js";
import { pushImage, randomBytes, type FixtureImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";

const LAYERS = 15;

function manyLayers(): FixtureImage {
  return {
    layers: Array.from({ length: LAYERS }, (_, i) => ({
      entries: [{ path: `layer-${i}.bin`, content: randomBytes(16 * 1024, i) }],
    })),
  };
}

describe("pull: many layers at once", () => {
  let server: RegistryServer;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    await pushImage(server, "library/many:15", manyLayers());
    // 16 KiB in 2 KiB pieces every 25 ms: each layer takes ~0.2 s, so the downloads overlap.
    server.intercept = slowBlobs(server, { chunk: 2048, everyMs: 25 });
  });

  after(async () => {
    await server?.stop();
  });

  it(`prints no warning on stderr for ${LAYERS} layers with --quiet`, async () => {
    const result = await runCli(["--quiet", "pull", "--threads", "12", "docker://library/many:15"], {
      env: { ...dockerEnv(server), NODE_OPTIONS: "--trace-warnings" },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.ok(successPath(result.stdout));
  });
});
