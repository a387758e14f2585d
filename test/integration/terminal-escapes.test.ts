/**
 * A hostile registry (the harness front on 127.0.0.1) puts terminal control sequences everywhere it
 * can: image labels and the platform in the image config, tag names in the tag list, error codes
 * in an error body, the realm of an auth challenge. Whatever the CLI prints — pull progress and
 * warnings, `labels`, `images`, `inspect`, `search`, errors — carries them escaped (`\u001b`),
 * never raw: no ESC, BEL, C1 or bidi control reaches stdout or stderr.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/terminal-escapes
 * ```
 */
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { isolatedEnv, runCli, runCliInProcess, type CliResult } from "../harness/cli.js";
import { dockerEnv, successPath } from "../harness/pull.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { runCli as runProgram } from "../../src/cli/program.js";

const ESC = "\x1b";
const BEL = "\x07";
const CSI_C1 = "\u009b";
const TITLE = `${ESC}]0;owned${BEL}`;
const CLEAR = `${ESC}[2J${ESC}[H`;
// eslint-disable-next-line no-control-regex -- looking for raw control characters is the test
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** No control character other than newline and tab in either stream. */
function assertNoRawControls(result: CliResult, what: string): void {
  for (const [name, text] of [
    ["stdout", result.stdout],
    ["stderr", result.stderr],
  ] as const) {
    const found = RAW_CONTROL.exec(text);
    assert.equal(
      found,
      null,
      `${what}: raw U+${found?.[0].charCodeAt(0).toString(16)} in ${name}: ${JSON.stringify(text)}`,
    );
  }
}

/** An interceptor answering one path with a fixed response. */
function answer(
  match: (path: string) => boolean,
  status: number,
  headers: Record<string, string>,
  body: string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (!match(req.url ?? "")) return false;
    // latin1: header bytes 0x80–0xff arrive as U+0080–U+00FF, so 0x9b is the C1 CSI.
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(Buffer.from(body, "utf8"));
    return true;
  };
}

describe("terminal escapes from a hostile registry", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    const image = sampleImage();
    await pushImage(server, "library/hostile:1", {
      ...image,
      architecture: `amd64${CLEAR}`,
      config: {
        ...image.config,
        Labels: {
          [`evil${CLEAR}key`]: `${TITLE}value${CSI_C1}31m`,
          maintainer: `right\u202eto-left`,
          multi: "line one\nSuccess! /etc/passwd",
        },
      },
    });
    tmp = await tmpDir("sregistry-escapes-");
    env = { ...isolatedEnv(tmp.path), ...dockerEnv(server) };
  });

  after(async () => {
    server.intercept = undefined;
    await server?.stop();
    await tmp?.cleanup();
  });

  it("pull: the platform and labels of the config stay escaped in progress and warnings", async () => {
    const result = await runCli(["pull", "docker://library/hostile:1"], { env, baseDir: tmp.path });
    assert.equal(result.code, 0, result.stderr);
    assertNoRawControls(result, "pull");
    assert.ok(successPath(result.stdout));
    assert.ok(result.stderr.includes("amd64\\u001b[2J\\u001b[H"), result.stderr);
  });

  it("labels, images, inspect (text and --json) show the labels escaped", async () => {
    const labels = await runCliInProcess(["labels"], env);
    assert.equal(labels.code, 0, labels.stderr);
    assertNoRawControls(labels, "labels");
    assert.ok(labels.stdout.includes("evil\\u001b[2J\\u001b[Hkey:\\u001b]0;owned\\u0007value\\u009b31m"));
    assert.ok(labels.stdout.includes("maintainer:right\\u202eto-left"));
    assert.ok(labels.stdout.includes("multi:line one\\nSuccess! /etc/passwd"), "a label cannot forge a line");
    assert.doesNotMatch(labels.stdout, /^Success!/m);

    for (const args of [
      ["labels", "--json"],
      ["images"],
      ["images", "--json"],
      ["inspect", "library/hostile:1"],
    ]) {
      const result = await runCliInProcess(args, env);
      assert.equal(result.code, 0, result.stderr);
      assertNoRawControls(result, args.join(" "));
    }
    const json = await runCliInProcess(["labels", "--json"], env);
    const [image] = JSON.parse(json.stdout) as { labels: { key: string; value: string }[] }[];
    assert.ok(
      image!.labels.some((l) => l.value === `${TITLE}value${CSI_C1}31m`),
      "JSON keeps the exact value, escaped",
    );
  });

  it("search: hostile tag names are listed escaped, one per line", async () => {
    server.intercept = answer(
      (path) => path.startsWith("/v2/library/hostile/tags/list"),
      200,
      {},
      JSON.stringify({
        name: "library/hostile",
        tags: ["1", TITLE, `x${CSI_C1}2J`, "a\nSuccess! /etc/passwd"],
      }),
    );
    try {
      const result = await runCliInProcess(["--quiet", "search", "--remote", "library/hostile"], env);
      assert.equal(result.code, 0, result.stderr);
      assertNoRawControls(result, "search");
      assert.ok(result.stdout.includes("docker://library/hostile:\\u001b]0;owned\\u0007"), result.stdout);
      assert.ok(result.stdout.includes("docker://library/hostile:x\\u009b2J"));
      assert.doesNotMatch(result.stdout, /^Success!/m);
      const json = await runCliInProcess(["search", "--remote", "--json", "library/hostile"], env);
      assertNoRawControls(json, "search --json");
    } finally {
      server.intercept = undefined;
    }
  });

  it("an error body's codes are escaped on the one ERROR line", async () => {
    server.intercept = answer(
      (path) => path.startsWith("/v2/library/broken/manifests/"),
      500,
      {},
      JSON.stringify({ errors: [{ code: TITLE, message: CLEAR }, { code: `${CSI_C1}2J\nERROR forged` }] }),
    );
    try {
      const result = await runCli(["pull", "docker://library/broken:1"], { env, baseDir: tmp.path });
      assert.equal(result.code, 1);
      assertNoRawControls(result, "pull error");
      const errors = result.stderr.split("\n").filter((line) => line.startsWith("ERROR"));
      assert.equal(errors.length, 1, result.stderr);
      assert.ok(errors[0]!.includes("\\u001b]0;owned\\u0007"), errors[0]);
    } finally {
      server.intercept = undefined;
    }
  });

  it("a challenge whose realm carries a C1 CSI (header byte 0x9b) does not reach the terminal raw", async () => {
    server.intercept = answer(
      (path) => path.startsWith("/v2/"),
      401,
      { "www-authenticate": `Bearer realm="http://127.0.0.1:9/tok\x9b2Jen",service="a\x9b31mb"` },
      JSON.stringify({ errors: [{ code: "UNAUTHORIZED" }] }),
    );
    try {
      const result = await runCliInProcess(["pull", "docker://library/hostile:1", "--force"], env);
      assert.notEqual(result.code, 0);
      assertNoRawControls(result, "challenge");
    } finally {
      server.intercept = undefined;
    }
  });

  it("on a terminal: the images table keeps its colour, and only our own escapes are sent", async () => {
    let stdout = "";
    let stderr = "";
    const code = await runProgram(["images"], {
      env: { ...env, SINGULARITY_COLORIZE: "yes" },
      stdout: { write: (t: string) => (stdout += t), isTTY: true },
      stderr: { write: (t: string) => (stderr += t), isTTY: true },
    });
    assert.equal(code, 0, stderr);
    assert.ok(stdout.startsWith(`${ESC}[91mContainers: ${ESC}[0m`), JSON.stringify(stdout));
    assertNoRawControls(
      { code, stdout: stdout.replaceAll(`${ESC}[91m`, "").replaceAll(`${ESC}[0m`, ""), stderr },
      "images",
    );
  });
});
