/**
 * Proves the integration-test harness: the real registry starts in each auth mode, skopeo pushes and
 * reads fixtures back, the token front behaves like nvcr.io (challenge without `service`, 401 on a bad
 * API key, strict expiry, anonymous pull tokens), and multi-platform, Docker schema 2 and schema 1
 * pushes work. Also unpacks a pulled image with umoci as in later comparisons.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/harness
 * ```
 */
import assert from "node:assert/strict";
import { readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import {
  MULTI_PLATFORMS,
  multiPlatformIndex,
  platformName,
  pushImage,
  SAMPLE_ENV_VALUE,
  sampleImage,
  splitRepoRef,
} from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, runAsNobody, skopeoCopyToOci, skopeoInspect, tmpDir, umociUnpack } from "../harness/tools.js";

interface InspectOutput {
  Digest: string;
  Architecture: string;
  Env: string[];
  Labels: Record<string, string>;
  Layers: string[];
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

function basic(user: string, pass: string): string {
  return "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");
}

/** GET /proxy_auth by hand; `extra` adds query parameters (e.g. service). */
async function fetchToken(server: RegistryServer, scope: string, authorization?: string, extra = {}) {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const query = new URLSearchParams({ scope, ...extra });
  const res = await fetch(`${server.url}/proxy_auth?${query}`, { headers });
  return {
    status: res.status,
    body: (await res.json()) as { token?: string; expires_in?: number; errors?: unknown[] },
  };
}

function getManifest(server: RegistryServer, repoRef: string, token?: string): Promise<Response> {
  const { repo, ref } = splitRepoRef(repoRef);
  const headers: Record<string, string> = { accept: OCI_MANIFEST };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(`${server.url}/v2/${repo}/manifests/${ref}`, { headers });
}

/** Files of a gzip layer, name → content. */
async function layerFiles(gz: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const tar = extract();
  const done = (async () => {
    for await (const entry of tar) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks).toString());
    }
  })();
  tar.end(gunzipSync(gz));
  await done;
  return files;
}

async function assertSampleRoundTrip(server: RegistryServer, repoTag: string): Promise<void> {
  const pushed = await pushImage(server, repoTag, sampleImage());
  assert.equal(pushed.mediaType, OCI_MANIFEST);
  assert.equal(pushed.manifestDigest, pushed.layout.digest, "--preserve-digests keeps the OCI manifest");
  const info = JSON.parse((await skopeoInspect(server, repoTag)).stdout) as InspectOutput;
  assert.equal(info.Digest, pushed.manifestDigest);
  assert.equal(info.Architecture, "amd64");
  assert.equal(info.Layers.length, 2);
  assert.ok(info.Env.includes(`GREETING=${SAMPLE_ENV_VALUE}`), info.Env.join("|"));
  assert.equal(info.Labels["com.example.quote"], `it's "quoted"`);
}

describe("anonymous registry", () => {
  let server: RegistryServer;
  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
  });
  after(() => server.stop());

  it("listens on 127.0.0.1 and logs the requests it proxies", async () => {
    assert.match(server.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.username, undefined);
    const res = await fetch(`${server.url}/v2/`);
    assert.equal(res.status, 200);
    assert.deepEqual(server.requests.at(-1), { method: "GET", path: "/v2/", host: server.host, status: 200 });
  });

  it("lets a test intercept requests at the front (fault injection) and clear the hook", async () => {
    let hits = 0;
    server.intercept = (req, res) => {
      if (!req.url?.includes("/manifests/")) return false;
      hits += 1;
      res.writeHead(429, { "Retry-After": "1" }).end();
      return true;
    };
    assert.equal((await fetch(`${server.url}/v2/x/manifests/1`)).status, 429);
    assert.equal((await fetch(`${server.url}/v2/`)).status, 200, "other requests still proxied");
    server.intercept = undefined;
    assert.equal((await fetch(`${server.url}/v2/x/manifests/1`)).status, 404);
    assert.equal(hits, 1);
    assert.equal(server.requests.at(-1)?.status, 404);
  });

  it("takes a skopeo push of the sample image and gives it back to skopeo inspect", async () => {
    await assertSampleRoundTrip(server, "library/sample:1");
  });

  it("round-trips the sample through skopeo and umoci, and runs commands as nobody", async () => {
    const tmp = await tmpDir("harness-umoci-");
    try {
      await skopeoCopyToOci(server, "library/sample:1", join(tmp.path, "layout"));
      const bundle = join(tmp.path, "bundle");
      await umociUnpack(join(tmp.path, "layout"), "latest", bundle, { rootless: true });
      assert.match(await readFile(join(bundle, "rootfs/bin/sh"), "utf8"), /sample shell/);
      assert.equal(await readlink(join(bundle, "rootfs/bin/busybox")), "sh");
      assert.equal(await readFile(join(bundle, "rootfs/opt/app/hello.txt"), "utf8"), "hello from layer 2\n");
      assert.equal((await runAsNobody("id", ["-u"])).stdout.trim(), "65534");
    } finally {
      await tmp.cleanup();
    }
  });

  it("pushes a multi-platform index with --all, each platform with its own /etc/platform", async () => {
    const pushed = await pushImage(server, "library/multi:1", multiPlatformIndex());
    assert.equal(pushed.mediaType, "application/vnd.oci.image.index.v1+json");
    const index = JSON.parse((await skopeoInspect(server, "library/multi:1", { raw: true })).stdout) as {
      manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => platformName(m.platform)),
      MULTI_PLATFORMS.map(platformName),
    );
    const armV7 = index.manifests[2]!;
    const manifest = JSON.parse(
      (await skopeoInspect(server, `library/multi@${armV7.digest}`, { raw: true })).stdout,
    ) as { layers: { digest: string }[] };
    const blob = await server.adminFetch(`/v2/library/multi/blobs/${manifest.layers[0]!.digest}`);
    const files = await layerFiles(Buffer.from(await blob.arrayBuffer()));
    assert.equal(files.get("etc/platform"), "linux/arm/v7\n");
  });

  it("pushes Docker schema 2 (v2s2), and refuses schema 1 when it is not enabled", async () => {
    const pushed = await pushImage(server, "library/docker:1", sampleImage(), { format: "v2s2" });
    assert.equal(pushed.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    const raw = JSON.parse((await skopeoInspect(server, "library/docker:1", { raw: true })).stdout) as {
      config: { mediaType: string };
    };
    assert.equal(raw.config.mediaType, "application/vnd.docker.container.image.v1+json");
    await assert.rejects(
      pushImage(server, "library/old:1", sampleImage(), { format: "v2s1" }),
      /500|manifest/i,
    );
  });
});

describe("schema-1 enabled registry", () => {
  let server: RegistryServer;
  before(async () => {
    server = await startRegistry({ auth: "anonymous", schema1: true });
  });
  after(() => server.stop());

  it("accepts a signed schema 1 manifest pushed by skopeo --format v2s1", async () => {
    const pushed = await pushImage(server, "library/old:1", sampleImage(), { format: "v2s1" });
    assert.equal(pushed.mediaType, "application/vnd.docker.distribution.manifest.v1+prettyjws");
    const raw = JSON.parse((await skopeoInspect(server, "library/old:1", { raw: true })).stdout) as {
      schemaVersion: number;
      fsLayers: unknown[];
      history: { v1Compatibility: string }[];
      signatures: unknown[];
    };
    assert.equal(raw.schemaVersion, 1);
    assert.equal(raw.fsLayers.length, 2);
    assert.ok(raw.signatures.length >= 1);
    const top = JSON.parse(raw.history[0]!.v1Compatibility) as { config: { Env: string[] } };
    assert.ok(top.config.Env.includes(`GREETING=${SAMPLE_ENV_VALUE}`));
  });
});

describe("basic-auth registry", () => {
  let server: RegistryServer;
  before(async () => {
    server = await startRegistry({ auth: "basic" });
  });
  after(() => server.stop());

  it("takes a skopeo push with the htpasswd credentials and gives it back", async () => {
    assert.ok(server.username && server.password);
    await assertSampleRoundTrip(server, "team/sample:2");
  });

  it("rejects a wrong password and no credentials", async () => {
    const wrong = await fetch(`${server.url}/v2/`, {
      headers: { authorization: basic(server.username!, "nope") },
    });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    assert.equal((await fetch(`${server.url}/v2/`)).status, 401);
    const right = await fetch(`${server.url}/v2/`, {
      headers: { authorization: basic(server.username!, server.password!) },
    });
    assert.equal(right.status, 200);
    const bad = { ...server, password: "wrong-password" };
    await assert.rejects(skopeoInspect(bad, "team/sample:2"), /unauthorized|authentication required|401/i);
  });
});

describe("token-auth registry shaped like nvcr.io", () => {
  let server: RegistryServer;
  before(async () => {
    server = await startRegistry({ auth: "token" });
  });
  after(() => server.stop());

  it("uses $oauthtoken and an API key, and skopeo pushes and inspects through /proxy_auth", async () => {
    assert.equal(server.username, "$oauthtoken");
    const before = server.tokenRequests;
    await assertSampleRoundTrip(server, "nvidia/sample:3");
    assert.ok(server.tokenRequests > before, "skopeo fetched tokens from the realm");
    assert.ok(server.requests.some((r) => r.path.startsWith("/proxy_auth?")));
  });

  it("challenges like nvcr.io: realm on the front, scope, no service", async () => {
    const base = (await fetch(`${server.url}/v2/`)).headers.get("www-authenticate");
    assert.equal(base, `Bearer realm="${server.url}/proxy_auth"`);
    const repo = (await getManifest(server, "nvidia/sample:3")).headers.get("www-authenticate");
    assert.equal(repo, `Bearer realm="${server.url}/proxy_auth",scope="repository:nvidia/sample:pull"`);
    assert.doesNotMatch(repo ?? "", /service=/);
  });

  it("answers 401 with errors for a wrong API key or no credentials, and grants with the right key", async () => {
    const scope = "repository:nvidia/sample:pull";
    const wrong = await fetchToken(server, scope, basic("$oauthtoken", "nvapi-wrong"));
    assert.equal(wrong.status, 401);
    assert.ok(Array.isArray(wrong.body.errors) && wrong.body.errors.length > 0);
    assert.equal(wrong.body.token, undefined);
    assert.equal((await fetchToken(server, scope)).status, 401);
    const right = await fetchToken(server, scope, basic(server.username!, server.password!), {
      service: "registry",
    });
    assert.equal(right.status, 200);
    assert.equal(right.body.expires_in, 600);
    assert.equal((await getManifest(server, "nvidia/sample:3", right.body.token)).status, 200);
  });
});

describe("token-auth registry with expiring tokens and anonymous pull", () => {
  let server: RegistryServer;
  before(async () => {
    server = await startRegistry({ auth: "token", tokenTtlSeconds: 30, anonymousPull: true });
    await pushImage(server, "nvidia/short:1", sampleImage());
  });
  after(() => server.stop());

  it("stops accepting a token after its expiry, and a fresh one works", async () => {
    const scope = "repository:nvidia/short:pull";
    const auth = basic(server.username!, server.password!);
    const counted = server.tokenRequests;
    const first = await fetchToken(server, scope, auth);
    assert.equal(first.body.expires_in, 30);
    assert.equal(server.tokenRequests, counted + 1);
    assert.equal((await getManifest(server, "nvidia/short:1", first.body.token)).status, 200);
    const challenge = /^Bearer realm=.*scope="repository:nvidia\/short:pull"$/;
    // A token whose exp has passed (no leeway, unlike distribution's 60 s) is refused.
    const past = await getManifest(server, "nvidia/short:1", server.mintToken([scope], -1));
    assert.equal(past.status, 401);
    assert.match(past.headers.get("www-authenticate") ?? "", challenge);
    // expireTokens(): the tokens handed out so far are refused the same way, without waiting.
    server.expireTokens();
    const expired = await getManifest(server, "nvidia/short:1", first.body.token);
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get("www-authenticate") ?? "", challenge);
    const second = await fetchToken(server, scope, auth);
    assert.equal((await getManifest(server, "nvidia/short:1", second.body.token)).status, 200);
  });

  it("gives anonymous clients a pull-only token", async () => {
    const anon = await fetchToken(server, "repository:nvidia/short:pull,push");
    assert.equal(anon.status, 200);
    assert.equal((await getManifest(server, "nvidia/short:1", anon.body.token)).status, 200);
    const upload = await fetch(`${server.url}/v2/nvidia/short/blobs/uploads/`, {
      method: "POST",
      headers: { authorization: `Bearer ${anon.body.token}` },
    });
    assert.equal(upload.status, 401, "push needs credentials");
    const info = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      `docker://${server.host}/nvidia/short:1`,
    ]);
    assert.equal((JSON.parse(info.stdout) as InspectOutput).Layers.length, 2);
  });
});
