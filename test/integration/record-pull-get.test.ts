/**
 * A name shared by a `record` row and a pulled image: `get` prints the file whichever came first,
 * and `images` shows no stale remote row beside the pulled image; a `record` of the manifest already
 * pulled adds nothing, one of a moved tag adds the remote row of the new manifest.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { dockerEnv, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { databaseEnv } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

let server: RegistryServer;

before(async () => {
  server = await startRegistry({ auth: "anonymous" });
  await pushImage(server, "library/recorded:1", sampleImage());
});
after(async () => {
  await server?.stop();
});

const url = () => `http://${server.host}/v2/library/recorded/manifests/1`;

forEachBackend((backend) => {
  let tmp: TmpDir;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env, baseDir: tmp.path });

  before(async () => {
    tmp = await tmpDir("record-pull-get-");
    env = { ...dockerEnv(server), ...(await databaseEnv(backend)) };
  });
  after(async () => {
    await tmp?.cleanup();
  });

  test("record, then pull: the record becomes the local row; get prints the file", async () => {
    assert.equal((await cli("--quiet", "record", "library/recorded:1")).code, 0);
    assert.equal((await cli("get", "library/recorded:1")).stdout, `${url()}\n`, "a record alone: its URL");
    const pulled = await cli("--quiet", "pull", "library/recorded:1");
    assert.equal(pulled.code, 0, pulled.stderr);
    const path = successPath(pulled.stdout);
    assert.equal((await cli("get", "library/recorded:1")).stdout, `${path}\n`);
    const images = await cli("images", "recorded");
    const rows = images.stdout.trim().split("\n").slice(1);
    assert.equal(rows.length, 1, images.stdout);
    assert.match(rows[0]!, /\[docker\]\tlibrary\/recorded:1@[0-9a-f]{64}$/);
  });

  test("record after the pull: no remote row is added, the local row is reported and kept", async () => {
    const before = (await cli("inspect", "library/recorded:1")).stdout;
    const recorded = await cli("record", "library/recorded:1");
    assert.equal(recorded.code, 0, recorded.stderr);
    assert.match(recorded.stdout, /^\[container\]\[exists\] library\/recorded:1@[0-9a-f]{64}$/m);
    const images = await cli("images", "recorded");
    const rows = images.stdout.trim().split("\n").slice(1);
    assert.equal(rows.length, 1, images.stdout);
    assert.match(rows[0]!, /\[docker\]\tlibrary\/recorded:1@[0-9a-f]{64}$/);
    const get = await cli("get", "library/recorded:1");
    assert.equal(get.code, 0, get.stderr);
    assert.match(
      get.stdout,
      new RegExp(
        `^${join(tmp.path, ".singularity", "shub", "library", "recorded")}/1@[0-9a-f]{64}\\.sif\\n$`,
      ),
    );
    assert.equal((await cli("inspect", "library/recorded:1")).stdout, before, "the local row is unchanged");
    const json = JSON.parse((await cli("record", "--json", "library/recorded:1")).stdout) as {
      created: boolean;
      exists: boolean;
      row: { image: string | null };
    };
    assert.deepEqual([json.created, json.exists, json.row.image], [false, true, get.stdout.trim()]);
  });

  test("record after the tag moved: the new manifest gets a remote row, get still prints the file", async () => {
    await pushImage(server, "library/recorded:1", sampleImage({ created: new Date().toISOString() }));
    const recorded = await cli("record", "library/recorded:1");
    assert.equal(recorded.code, 0, recorded.stderr);
    assert.match(recorded.stdout, /^\[container\]\[new\] library\/recorded:1$/m);
    const rows = (await cli("images", "recorded")).stdout.trim().split("\n").slice(1);
    assert.equal(rows.length, 2, rows.join("\n"));
    assert.match((await cli("get", "library/recorded:1")).stdout, /\.sif\n$/);
  });

  test("with no client configured, a bare name goes to Docker Hub's settings (the docker client)", async () => {
    const { SREGISTRY_CLIENT: _, ...noClient } = env;
    const result = await runCli(["record", "library/recorded:1"], { env: noClient });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\[client\|docker\] /);
    const hub = await runCli(["record", "library/recorded:1"], {
      env: { ...noClient, SREGISTRY_CLIENT: "hub" },
    });
    assert.equal(hub.code, 1);
    assert.equal(hub.stderr, "ERROR the hub client is not available in this version; use docker or nvidia\n");
  });
});
