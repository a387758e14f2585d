/**
 * `search` against the real registry (CNCF distribution behind the harness front): tags of a
 * repository for the docker backend (anonymous) and the nvidia backend (nvcr.io-like token auth),
 * pagination, an unknown repository, and the local catalog alongside.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { isolatedEnv, runCli, runCliInProcess } from "../harness/cli.js";
import { Context } from "../../src/api/context.js";
import { search } from "../../src/api/search.js";

let docker: RegistryServer;
let nvidia: RegistryServer;
let base: string;
let dockerEnv: Record<string, string>;
let nvidiaEnv: Record<string, string>;

before(async () => {
  [docker, nvidia] = await Promise.all([
    startRegistry({ auth: "anonymous" }),
    startRegistry({ auth: "token" }),
  ]);
  const image = sampleImage();
  for (const tag of ["1.0", "1.1", "latest"]) await pushImage(docker, `library/busybox:${tag}`, image);
  for (const tag of ["17.11", "18.01-py3"]) await pushImage(nvidia, `nvidia/tensorflow:${tag}`, image);
  base = mkdtempSync(join(tmpdir(), "sregistry-cli-search-"));
  mkdirSync(join(base, ".singularity"));
  const isolated = isolatedEnv(base);
  dockerEnv = { ...isolated, SREGISTRY_DOCKERHUB_BASE: docker.host, SREGISTRY_DOCKERHUB_NOHTTPS: "true" };
  nvidiaEnv = {
    ...isolated,
    SREGISTRY_NVIDIA_BASE: nvidia.host,
    SREGISTRY_NVIDIA_NOHTTPS: "true",
    SREGISTRY_NVIDIA_TOKEN: nvidia.password!,
  };
});
after(async () => {
  await Promise.all([docker?.stop(), nvidia?.stop()]);
  rmSync(base, { recursive: true, force: true });
});

test("SREGISTRY_CLIENT=docker: `search busybox` lists library/busybox's tags as pullable uris", async () => {
  const result = await runCli(["--quiet", "search", "busybox"], {
    baseDir: base,
    env: { ...dockerEnv, SREGISTRY_CLIENT: "docker" },
  });
  assert.deepEqual(result, {
    code: 0,
    stdout:
      `Tags: ${docker.host}/library/busybox\n` +
      "1  docker://library/busybox:1.0\n2  docker://library/busybox:1.1\n3  docker://library/busybox:latest\n",
    stderr: "",
  });
});

test("a docker:// word asks the registry even with the default hub client", async () => {
  const ctx = new Context({ env: dockerEnv, home: base });
  try {
    const found = await search(ctx, ["docker://busybox"]);
    assert.deepEqual(found.remote, [
      {
        query: "docker://busybox",
        client: "docker",
        registry: docker.host,
        repository: "library/busybox",
        tags: ["1.0", "1.1", "latest"],
        uris: [
          "docker://library/busybox:1.0",
          "docker://library/busybox:1.1",
          "docker://library/busybox:latest",
        ],
      },
    ]);
  } finally {
    ctx.close();
  }
});

test("Link pagination is followed (pages served by the front: distribution 2.8 ignores n)", async () => {
  const all = ["1.0", "1.1", "1.10", "1.9", "latest"];
  let pages = 0;
  docker.intercept = (req, res) => {
    const url = new URL(req.url ?? "/", "http://front");
    if (!url.pathname.endsWith("/tags/list")) return false;
    pages += 1;
    const start = url.searchParams.has("last") ? all.indexOf(url.searchParams.get("last")!) + 1 : 0;
    const page = all.slice(start, start + 2);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (start + 2 < all.length) headers.link = `<${url.pathname}?n=2&last=${page.at(-1)}>; rel="next"`;
    res.writeHead(200, headers).end(JSON.stringify({ name: "library/busybox", tags: page }));
    return true;
  };
  const ctx = new Context({ env: dockerEnv, home: base });
  try {
    const found = await search(ctx, ["docker://busybox"], { pageSize: 2 });
    assert.deepEqual(
      found.remote[0]?.tags,
      ["1.0", "1.1", "1.9", "1.10", "latest"],
      "all pages, numeric-aware order",
    );
    assert.equal(pages, 3);
  } finally {
    ctx.close();
    docker.intercept = () => false;
  }
});

test("nvidia: token auth, `tensorflow` means nvidia/tensorflow; --json", async () => {
  const result = await runCliInProcess(["search", "nvidia://tensorflow", "--json"], nvidiaEnv);
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as {
    local: unknown[];
    remote: { repository: string; uris: string[] }[];
  };
  assert.deepEqual(parsed.local, []);
  assert.deepEqual(
    parsed.remote.map((r) => [r.repository, r.uris]),
    [["nvidia/tensorflow", ["nvidia://nvidia/tensorflow:17.11", "nvidia://nvidia/tensorflow:18.01-py3"]]],
  );
  assert.ok(nvidia.tokenRequests > 0, "a token was fetched with the API key");
  assert.ok(!result.stdout.includes(nvidia.password!));
});

test("an unknown repository: one ERROR line naming it, exit 1", async () => {
  const result = await runCliInProcess(["--quiet", "search", "docker://nothing/here"], dockerEnv);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  const lines = result.stderr.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^ERROR .*nothing\/here/);
});

test("the announcement names the client of the word", async () => {
  const result = await runCliInProcess(["search", "docker://busybox"], dockerEnv);
  assert.equal(
    result.stdout.split("\n")[0],
    `[client|docker] [database|sqlite:///${join(base, ".singularity", "sregistry.db")}]`,
  );
});
