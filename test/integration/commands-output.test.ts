/**
 * Output details of the catalog commands through the real CLI program: `--json` rows carry
 * `metrics` as an object everywhere (as `inspect --json` does), empty `images`/`labels` results
 * print one short line on a terminal and nothing when piped (`[]` with `--json`), and
 * `backend status` counts clients in correct English.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/commands-output
 * ```
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isolatedEnv, runCliInProcess, type CliResult } from "../harness/cli.js";
import { dockerEnv } from "../harness/pull.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { databaseEnv } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";
import { runCli as runProgram } from "../../src/cli/program.js";

/** The program with stdout and stderr that say they are a terminal. */
async function onTerminal(args: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runProgram(args, {
    env,
    stdout: { write: (t: string) => (stdout += t), isTTY: true },
    stderr: { write: (t: string) => (stderr += t), isTTY: true },
  });
  return { code, stdout, stderr };
}

describe("backend status", () => {
  it("says 'There is 1 client' for one, 'There are N clients' otherwise", async () => {
    const home = await tmpDir("sregistry-status-");
    try {
      const env = isolatedEnv(home.path);
      const status = async () => (await runCliInProcess(["backend", "status"], env)).stdout.split("\n")[1];
      assert.equal(await status(), "There are 0 clients found in secrets.");
      assert.equal((await runCliInProcess(["backend", "add", "docker", "base", "r.example"], env)).code, 0);
      assert.equal(await status(), "There is 1 client found in secrets.");
      assert.equal((await runCliInProcess(["backend", "add", "nvidia", "base", "n.example"], env)).code, 0);
      assert.equal(await status(), "There are 2 clients found in secrets.");
    } finally {
      await home.cleanup();
    }
  });
});

// The catalog commands, on each engine.
forEachBackend((backend) => {
  describe("empty results", () => {
    let home: TmpDir;
    let env: Record<string, string>;

    before(async () => {
      home = await tmpDir("sregistry-empty-");
      env = { ...isolatedEnv(home.path), ...(await databaseEnv(backend)) };
    });
    after(() => home.cleanup());

    it("images: one line on a terminal, nothing when piped, [] with --json", async () => {
      assert.deepEqual(await onTerminal(["images"], env), {
        code: 0,
        stdout: "No images in the catalog.\n",
        stderr: "",
      });
      assert.deepEqual(await onTerminal(["images", "caffe2", "tf"], env), {
        code: 0,
        stdout: "No images match caffe2 tf.\n",
        stderr: "",
      });
      assert.deepEqual(await runCliInProcess(["images"], env), { code: 0, stdout: "", stderr: "" });
      assert.deepEqual(await onTerminal(["images", "--json"], env), { code: 0, stdout: "[]\n", stderr: "" });
    });

    it("labels: one line on a terminal, nothing when piped, [] with --json", async () => {
      assert.deepEqual(await onTerminal(["labels", "--key", "maintainer"], env), {
        code: 0,
        stdout: "No labels found.\n",
        stderr: "",
      });
      assert.deepEqual(await runCliInProcess(["labels"], env), { code: 0, stdout: "", stderr: "" });
      assert.deepEqual(await onTerminal(["labels", "--json"], env), { code: 0, stdout: "[]\n", stderr: "" });
    });

    it("MESSAGELEVEL=QUIET hides the images line as it hides the table", async () => {
      const quiet = await onTerminal(["images"], { ...env, MESSAGELEVEL: "QUIET" });
      assert.deepEqual(quiet, { code: 0, stdout: "", stderr: "" });
    });
  });

  describe("--json rows carry metrics as an object", () => {
    let server: RegistryServer;
    let home: TmpDir;
    let env: Record<string, string>;

    before(async () => {
      server = await startRegistry({ auth: "anonymous" });
      await pushImage(server, "library/sample:1", sampleImage());
      home = await tmpDir("sregistry-json-rows-");
      env = { ...isolatedEnv(home.path), ...dockerEnv(server), ...(await databaseEnv(backend)) };
    });
    after(async () => {
      await server?.stop();
      await home?.cleanup();
    });

    it("record, images, search and inspect agree", async () => {
      const recorded = await runCliInProcess(["record", "--json", "docker://library/sample:1"], env);
      assert.equal(recorded.code, 0, recorded.stderr);
      const record = (JSON.parse(recorded.stdout) as { row: { metrics: unknown } }).row.metrics;
      assert.equal(typeof record, "object");

      const inspected = await runCliInProcess(["inspect", "--json", "library/sample:1"], env);
      const inspect = (JSON.parse(inspected.stdout) as { metrics: unknown }).metrics;
      assert.equal(typeof inspect, "object");

      const listed = await runCliInProcess(["images", "--json"], env);
      const [row] = JSON.parse(listed.stdout) as { metrics: { digest: string } }[];
      assert.equal(typeof row!.metrics, "object", "images --json: metrics is an object, not a string");
      assert.match(row!.metrics.digest, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(row!.metrics, inspect);
      assert.deepEqual(record, inspect);

      const searched = await runCliInProcess(["search", "--local", "--json", "sample"], env);
      const local = (JSON.parse(searched.stdout) as { local: { metrics: unknown }[] }).local;
      assert.deepEqual(local[0]!.metrics, inspect);
    });
  });
});
