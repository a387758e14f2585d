/**
 * Credentials stay where they belong, proven through the real CLI (a child process) against the real
 * registry behind the nvcr.io-like token front (`$oauthtoken` + API key):
 * - a blob GET redirected (307) to another host (127.0.0.2) reaches it without `Authorization`,
 *   cookie or the key, and the pull still succeeds;
 * - with `--debug` and `MESSAGELEVEL=DEBUG`, `record`, `pull` and a pull with a wrong key print neither
 *   the API key, its Basic (base64) forms nor the bearer JWT, and none lands in the catalog, cache or
 *   storage files;
 * - a foreign layer's URL on another host is fetched without any credential. The CLI never contacts a
 *   loopback layer URL (pull-foreign-urls.test.ts), so this case drives the production download path
 *   (`connectRemote` + `downloadLayers`, the real nvidia client) with the loopback allowance for tests.
 * Every server here listens on loopback (127.0.0.1 and 127.0.0.2).
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/credentials-e2e
 * ```
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { extractSifPartition, nvidiaEnv, successPath } from "../harness/pull.js";
import { isolatedEnv, runCli } from "../harness/cli.js";
import { pushImage, randomBytes } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { Context } from "../../src/api/context.js";
import { BlobStore } from "../../src/cache/blob-store.js";
import { downloadLayers } from "../../src/pull/download.js";
import { connectRemote } from "../../src/pull/remote.js";

const NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

/** A listener on 127.0.0.2 ("another host") that records request headers and answers with `serve`. */
async function startOtherHost(
  serve: (path: string) => Promise<Buffer | undefined>,
): Promise<{ server: Server; base: string; seen: { path: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? "/", headers: req.headers });
    serve(req.url ?? "/").then(
      (body) =>
        body ? res.writeHead(200, { "content-length": body.length }).end(body) : res.writeHead(404).end(),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
  return { server, base: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, seen };
}

/** Every file under `dir` (recursively), with its bytes. */
async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

describe("credentials end to end (CLI, token registry)", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let other: Awaited<ReturnType<typeof startOtherHost>>;
  /** Every bearer token the registry saw from the client. */
  const bearers = new Set<string>();

  before(async () => {
    server = await startRegistry({ auth: "token", layerUrls: true });
    tmp = await tmpDir("credentials-e2e-");
    await pushImage(server, "nvidia/app:1", {
      layers: [1, 2].map((n) => ({ entries: [{ path: `layer${n}.bin`, content: randomBytes(50_000, n) }] })),
      config: { Cmd: ["/bin/sh"] },
    });
    other = await startOtherHost(async (path) => {
      const res = await server.adminFetch(path);
      return res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
    });
  });

  after(async () => {
    server.intercept = undefined;
    other?.server.close();
    await server?.stop();
    await tmp?.cleanup();
  });

  /** Records the bearer tokens sent to the registry; with `redirect`, blob GETs answer 307 to 127.0.0.2. */
  function watch(redirect: boolean): void {
    server.intercept = (req, res) => {
      const auth = req.headers.authorization;
      if (auth?.startsWith("Bearer ")) bearers.add(auth.slice("Bearer ".length));
      if (!redirect || req.method !== "GET" || !/\/blobs\/sha256:/.test(req.url ?? "")) return false;
      res
        .writeHead(307, { location: `${other.base}${req.url}`, "set-cookie": "session=registry-cookie" })
        .end();
      return true;
    };
  }

  it("drops Authorization on a 307 to another host; the pull succeeds", async () => {
    watch(true);
    const before = other.seen.length;
    let result;
    try {
      result = await runCli(["pull", "nvidia://app:1"], {
        env: nvidiaEnv(server),
        baseDir: join(tmp.path, "redirect"),
      });
    } finally {
      server.intercept = undefined;
    }
    assert.equal(result.code, 0, result.stderr);
    const seen = other.seen.slice(before);
    assert.ok(seen.length >= 3, `config and both layers came from 127.0.0.2 (saw ${seen.length})`);
    for (const { headers } of seen) {
      assert.equal(headers.authorization, undefined);
      assert.equal(headers.cookie, undefined);
      assert.equal(headers["proxy-authorization"], undefined);
      assert.ok(!JSON.stringify(headers).includes(server.password!), "no API key in any header");
    }
    assert.ok(bearers.size >= 1, "the registry itself did get a bearer token");
    const root = await extractSifPartition(successPath(result.stdout), join(tmp.path, "redirect-root"));
    assert.deepEqual(await readFile(join(root, "layer2.bin")), randomBytes(50_000, 2));
  });

  it("keeps the key, its Basic forms and the JWT out of output, catalog, cache and storage", async () => {
    const key = server.password!;
    const base = join(tmp.path, "secrets");
    const debug = { ...nvidiaEnv(server), MESSAGELEVEL: "DEBUG" };
    const wrongKey = `${key.slice(0, -4)}zzzz`;
    const outputs: string[] = [];
    watch(false);
    try {
      for (const [args, env] of [
        [["--debug", "record", "app:1"], debug],
        [["--debug", "pull", "app:1"], debug],
        [["--debug", "pull", "app:1"], { ...debug, SREGISTRY_NVIDIA_TOKEN: wrongKey }],
      ] as const) {
        const result = await runCli([...args], { env, baseDir: base });
        outputs.push(result.stdout, result.stderr);
      }
    } finally {
      server.intercept = undefined;
    }
    assert.match(outputs[1]!, /DEBUG/, "record ran with debug output");
    assert.match(outputs[2]!, /^Success! /m, outputs[3]);
    assert.match(outputs[3]!, /DEBUG GET .*proxy_auth/, "pull ran with debug output");
    assert.match(outputs[5]!, /ERROR/, "the wrong key fails");
    assert.ok(bearers.size >= 1);
    const secrets = new Map<string, string>([
      ["API key", key],
      ["wrong API key", wrongKey],
      ["base64 $oauthtoken:WRONG", Buffer.from(`$oauthtoken:${wrongKey}`).toString("base64")],
      ["base64 $oauthtoken:KEY", Buffer.from(`$oauthtoken:${key}`).toString("base64")],
      ["base64 KEY", Buffer.from(key).toString("base64")],
      ...[...bearers].flatMap((jwt, i): [string, string][] => [
        [`bearer token ${i}`, jwt],
        [`JWT signature ${i}`, jwt.split(".")[2]!],
      ]),
    ]);
    const db = join(base, ".singularity", "sregistry.db");
    const places: { path: string; bytes: Buffer }[] = [
      ...outputs.map((text, i) => ({ path: `output ${i}`, bytes: Buffer.from(text) })),
      { path: "catalog dump", bytes: execFileSync("sqlite3", [db, ".dump"]) },
      ...(await filesUnder(join(base, ".singularity"))),
      ...(await filesUnder(join(base, "tmp"))),
    ];
    assert.ok(
      places.some((p) => p.path.endsWith(".sif")),
      "storage was scanned",
    );
    for (const { path, bytes } of places)
      for (const [name, value] of secrets) assert.ok(!bytes.includes(value), `${name} found in ${path}`);
    // The secrets file keeps the accepted key (that is its job) but never a short-lived token.
    const secretsFile = await readFile(join(base, ".sregistry"));
    for (const jwt of bearers) assert.ok(!secretsFile.includes(jwt), "no bearer token in the secrets file");
    assert.ok(!secretsFile.includes(wrongKey), "the refused key is not saved");
    assert.ok(secretsFile.includes(key), "the byte scan does find a key where one is stored");
  });

  it("fetches a foreign layer URL on another host without any credential", async () => {
    const accept = { accept: "application/vnd.oci.image.manifest.v1+json" };
    const manifest = (await (
      await server.adminFetch("/v2/nvidia/app/manifests/1", { headers: accept })
    ).json()) as {
      layers: { mediaType: string; digest: string; urls?: string[] }[];
    };
    const layer = manifest.layers[1]!;
    const blobPath = `/v2/nvidia/app/blobs/${layer.digest}`;
    layer.mediaType = NONDISTRIBUTABLE;
    layer.urls = [`${other.base}${blobPath}`];
    const put = await server.adminFetch("/v2/nvidia/app/manifests/foreign", {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: JSON.stringify(manifest),
    });
    assert.equal(put.status, 201, await put.text());

    const base = join(tmp.path, "foreign");
    const ctx = new Context({ env: { ...isolatedEnv(base), ...nvidiaEnv(server) }, home: base });
    watch(false);
    const seenBefore = other.seen.length;
    const requestsBefore = server.requests.length;
    try {
      const remote = connectRemote(ctx, "nvidia://app:foreign");
      const image = await remote.registry.resolveImage(
        remote.reference.repository,
        "foreign",
        ctx.settings.platform,
      );
      const store = new BlobStore(join(base, "blobs"));
      await downloadLayers({
        store,
        remote,
        layers: image.layers,
        threads: 1,
        allowForeign: true,
        emit: () => undefined,
        foreignUrls: { allowLoopbackForTests: true },
      });
      assert.deepEqual(
        await readFile(store.path(layer.digest)),
        Buffer.from(await (await server.adminFetch(blobPath)).arrayBuffer()),
      );
    } finally {
      server.intercept = undefined;
    }
    const seen = other.seen.slice(seenBefore);
    assert.deepEqual(
      seen.map((r) => r.path),
      [blobPath],
      "the foreign layer came from its URL",
    );
    const fromRegistry = server.requests.slice(requestsBefore);
    assert.ok(!fromRegistry.some((r) => r.path.includes(layer.digest)), "not from the registry");
    assert.ok(
      fromRegistry.some((r) => r.authorization?.startsWith("Bearer ")),
      "the registry did get a token",
    );
    const headers = seen[0]!.headers;
    assert.equal(headers.authorization, undefined);
    assert.equal(headers.cookie, undefined);
    assert.equal(headers["proxy-authorization"], undefined);
    for (const secret of [server.password!, ...bearers])
      assert.ok(!JSON.stringify(headers).includes(secret), "no key or token in any header");
  });
});
