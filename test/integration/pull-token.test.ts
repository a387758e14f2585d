/**
 * `sregistry pull nvidia://…` against the nvcr.io-like token front (`$oauthtoken` + API key, strict
 * token expiry) where the token expires in the middle of the pull: when the first blob is asked
 * for, the test server declares every token handed out so far expired (no clock involved, and
 * the client's early refresh cannot step around it, since the token still has minutes to live by
 * its `expires_in`). The expired token is refused by the registry, a new one is fetched, and the
 * pull still succeeds with the right content. The API key never appears in the output. *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-token
 * ```
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { extractSifPartition, nvidiaEnv, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, randomBytes } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

describe("pull: token auth with tokens expiring mid-pull", () => {
  let server: RegistryServer;
  let tmp: TmpDir;

  before(async () => {
    server = await startRegistry({ auth: "token" });
    tmp = await tmpDir("pull-token-");
    await pushImage(server, "nvidia/app:1", {
      layers: [1, 2, 3].map((n) => ({
        entries: [{ path: `layer${n}.bin`, content: randomBytes(200_000, n) }],
      })),
      config: { Cmd: ["/bin/sh"] },
    });
  });

  after(async () => {
    server.intercept = undefined;
    await server?.stop();
    await tmp?.cleanup();
  });

  it("refreshes the token and completes", async () => {
    // The first blob request finds the token it carries expired; later tokens are valid.
    let expiredOnce = false;
    server.intercept = (req) => {
      if (!expiredOnce && req.method === "GET" && req.url?.includes("/blobs/")) {
        expiredOnce = true;
        server.expireTokens();
      }
      return false;
    };
    const from = server.requests.length;
    const tokensBefore = server.tokenRequests;
    let result;
    try {
      result = await runCli(["pull", "--threads", "1", "nvidia://app:1"], {
        env: nvidiaEnv(server),
        baseDir: join(tmp.path, "home"),
      });
    } finally {
      server.intercept = undefined;
    }
    assert.equal(result.code, 0, result.stderr);
    const expired = server.requests.slice(from).filter((r) => r.path.includes("/blobs/") && r.status === 401);
    assert.ok(expired.length >= 1, "a blob request was refused with an expired token");
    assert.ok(server.tokenRequests - tokensBefore >= 2, "a new token was fetched");
    const sif = successPath(result.stdout);
    assert.match(sif, /\/nvidia\/app\/1@[0-9a-f]{64}\.sif$/);
    const root = await extractSifPartition(sif, join(tmp.path, "root"));
    for (const n of [1, 2, 3])
      assert.deepEqual(await readFile(join(root, `layer${n}.bin`)), randomBytes(200_000, n));
    assert.ok(!(result.stdout + result.stderr).includes(server.password!), "the API key is never printed");
  });
});
