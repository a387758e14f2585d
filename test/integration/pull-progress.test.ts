/**
 * Pull progress output: the renderer on a terminal (one bar per layer plus a total with bytes,
 * rate and ETA, redrawn in place; a live build line; a summary with stage times) and in logs (one
 * line per stage, no escape codes), driven with a fake clock; and the real CLI's stderr in a log
 * and with `--quiet` (nothing at all).
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-progress
 * ```
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PullProgress, bar } from "../../src/cli/progress.js";
import type { PullEvent, PullOutput } from "../../src/pull/events.js";
import { dockerEnv, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";

const ESC = String.fromCharCode(27);
const A = "sha256:" + "a".repeat(64);
const B = "sha256:" + "b".repeat(64);
const C = "sha256:" + "c".repeat(64);

function render(tty: boolean, output?: PullOutput, recorded?: boolean): string {
  let now = 0;
  let text = "";
  const progress = new PullProgress({ write: (t: string) => (text += t) }, { tty, now: () => now });
  const events: [number, PullEvent][] = [
    [0, { type: "stage", stage: "resolve" }],
    [
      100,
      {
        type: "resolved",
        reference: "r.io/x/y:1",
        digest: "sha256:" + "d".repeat(64),
        platform: "linux/amd64",
        layers: [
          { digest: A, size: 1_000_000, cached: false },
          { digest: B, size: 3_000_000, cached: false },
          { digest: C, size: 500, cached: true },
        ],
      },
    ],
    [100, { type: "stage", stage: "download" }],
    [600, { type: "layer-progress", digest: A, bytes: 500_000 }],
    [1100, { type: "layer-progress", digest: B, bytes: 1_500_000 }],
    [1200, { type: "layer-done", digest: A, cached: false, downloaded: 1_000_000 }],
    [2100, { type: "layer-progress", digest: B, bytes: 1_500_000 }],
    [2100, { type: "layer-done", digest: B, cached: false, downloaded: 3_000_000 }],
    [2100, { type: "layer-done", digest: C, cached: true, downloaded: 0 }],
    [2100, { type: "stage", stage: "build", ...(output ? { output } : {}) }],
    [2600, { type: "build-progress", bytes: 7_000_000 }],
    [3100, { type: "stage", stage: "store", ...(recorded !== undefined ? { recorded } : {}) }],
    [
      3300,
      {
        type: "done",
        path: "/s/y.sif",
        uri: "x/y:1@v",
        seconds: { resolve: 0.1, download: 2, build: 1, store: 0.2 },
      },
    ],
  ];
  for (const [at, event] of events) {
    now = at;
    progress.handle(event);
  }
  progress.close();
  return text;
}

describe("pull progress rendering", () => {
  it("draws per-layer bars and a total with rate and ETA on a terminal", () => {
    const text = render(true);
    assert.match(text, /\[1\/3\] aaaaaaaaaaaa \|={12}-{12}\| {2}50\.0% 1\.0 MB/);
    assert.match(text, /\[3\/3\] cccccccccccc \|={24}\| 100\.0% 500 B cached/);
    assert.match(text, /Total \|={12}-{12}\| {2}50\.0% 4\.0 MB 2\.0 MB\/s ETA 1 s\n/);
    assert.ok(text.includes(`${ESC}[4A`), "the block is redrawn in place");
    assert.ok(text.includes(`\r${ESC}[2KBuilding SIF: 7.0 MB of files flattened in 0.5 s`));
    assert.match(text, /Downloaded 4\.0 MB in 2\.0 s \(2\.0 MB\/s\)\n/);
    assert.match(text, /Pulled in 3\.3 s \(resolve 0\.1 s, download 2\.0 s, build 1\.0 s, store 0\.2 s\)\n$/);
  });

  it("writes one plain line per stage in logs", () => {
    const lines = render(false).trimEnd().split("\n");
    assert.deepEqual(lines, [
      "Resolved r.io/x/y:1 (sha256:dddddddddddd) for linux/amd64: 3 layers, 4.0 MB, 1 cached",
      "Downloading 2 layers (4.0 MB)...",
      "Downloaded 4.0 MB in 2.0 s (2.0 MB/s)",
      "Building image (flatten layers → squashfs → SIF)...",
      "Storing image and updating the catalog...",
      "Pulled in 3.3 s (resolve 0.1 s, download 2.0 s, build 1.0 s, store 0.2 s)",
    ]);
  });

  it("names the real output of the build: squashfs for enroot, or a sandbox directory", () => {
    const squashfs = render(false, "squashfs", false);
    assert.match(squashfs, /^Building image \(flatten layers → squashfs for enroot\)\.\.\.$/m);
    assert.match(squashfs, /^Placing the squashfs\.\.\.$/m);
    assert.ok(!squashfs.includes("SIF") && !squashfs.includes("catalog"), squashfs);
    assert.ok(
      render(true, "squashfs").includes(`\r${ESC}[2KBuilding squashfs: 7.0 MB of files flattened in 0.5 s`),
    );
    const sandbox = render(false, "sandbox", false);
    assert.match(sandbox, /^Building sandbox \(flatten layers → directory\)\.\.\.$/m);
    assert.ok(!sandbox.includes("SIF") && !sandbox.includes("catalog"), sandbox);
    assert.ok(
      render(true, "sandbox").includes(`\r${ESC}[2KBuilding sandbox: 7.0 MB of files extracted in 0.5 s`),
    );
  });

  it("shows unknown sizes (schema 1) as bytes so far", () => {
    assert.match(bar(1500, -1), /^\|\?{24}\| 1\.5 kB$/);
  });
});

describe("pull progress from the CLI", () => {
  let server: RegistryServer;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    await pushImage(server, "library/sample:1", sampleImage());
  });

  after(async () => {
    await server?.stop();
  });

  it("logs stages on stderr and keeps stdout for the result lines", async () => {
    const result = await runCli(["pull", "docker://library/sample:1"], { env: dockerEnv(server) });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stderr.includes(ESC), "no escape codes in a log");
    assert.match(result.stderr, /^Downloading 2 layers/m);
    assert.match(result.stderr, /^Pulled in \d+\.\d s \(resolve/m);
    assert.match(result.stdout, /^\[container\]\[new\] /m);
    assert.ok(successPath(result.stdout));
  });

  it("names the output each --format and --sandbox builds, never a SIF that is not written", async () => {
    const squashfs = await runCli(["pull", "--format", "squashfs", "docker://library/sample:1"], {
      env: dockerEnv(server),
    });
    assert.equal(squashfs.code, 0, squashfs.stderr);
    assert.match(squashfs.stderr, /^Building image \(flatten layers → squashfs for enroot\)\.\.\.$/m);
    assert.match(squashfs.stderr, /^Placing the squashfs\.\.\.$/m);
    assert.ok(!/SIF|catalog/.test(squashfs.stderr), squashfs.stderr);
    const sandbox = await runCli(["pull", "--sandbox", "root", "docker://library/sample:1"], {
      env: dockerEnv(server),
    });
    assert.equal(sandbox.code, 0, sandbox.stderr);
    assert.match(sandbox.stderr, /^Building sandbox \(flatten layers → directory\)\.\.\.$/m);
    assert.ok(!/SIF|catalog/.test(sandbox.stderr), sandbox.stderr);
    const sif = await runCli(["pull", "docker://library/sample:1"], { env: dockerEnv(server) });
    assert.match(sif.stderr, /^Building image \(flatten layers → squashfs → SIF\)\.\.\.$/m);
    assert.match(sif.stderr, /^Storing image and updating the catalog\.\.\.$/m);
  });

  it("rejects a bad --threads and an incompatible --sandbox/--name before any request", async () => {
    const from = server.requests.length;
    const threads = await runCli(["pull", "--threads", "0", "docker://library/sample:1"], {
      env: dockerEnv(server),
    });
    assert.equal(threads.code, 1);
    assert.match(threads.stderr, /^ERROR --threads must be an integer from 1 to 64, got 0$/m);
    const both = await runCli(["pull", "--sandbox", "d", "--name", "f.sif", "docker://library/sample:1"], {
      env: dockerEnv(server),
    });
    assert.match(both.stderr, /^ERROR --sandbox and --name cannot be used together$/m);
    assert.equal(server.requests.length, from);
  });

  it("prints nothing but the result with --quiet", async () => {
    const result = await runCli(["--quiet", "pull", "docker://library/sample:1"], { env: dockerEnv(server) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.match(result.stdout, /^Success! /m);
  });
});
