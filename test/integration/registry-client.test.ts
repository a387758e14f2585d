/**
 * The registry client against the real CNCF registry (docker-registry 2.8) in each auth mode, with
 * images pushed by skopeo: anonymous, Basic (htpasswd), nvcr.io-like token auth with `$oauthtoken`
 * and an API key (strict expiry), OCI / Docker schema 2 / schema 1 / multi-platform resolution,
 * tag pagination, and clear errors for unknown repositories, tags, platforms and a stopped registry.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/registry-client
 * ```
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../../src/oci/digest.js";
import { readBody } from "../../src/registry/body.js";
import { RegistryClient } from "../../src/registry/client.js";
import { staticKeychain } from "../../src/registry/credentials.js";
import { MediaType } from "../../src/oci/types.js";
import {
  MULTI_PLATFORMS,
  multiPlatformIndex,
  platformName,
  pushImage,
  sampleImage,
  type PushResult,
} from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";

const AMD64 = { os: "linux", architecture: "amd64" };
const FAST_RETRY = { baseDelayMs: 5, attempts: 2 };

function clientFor(server: RegistryServer, creds?: { username: string; password: string }): RegistryClient {
  return new RegistryClient({
    registry: server.host,
    insecure: true,
    keychain: creds ? staticKeychain(creds) : undefined,
    retry: FAST_RETRY,
  });
}

/** Tags `repo:<tag>` for each of `tags` with the manifest of `repo:<from>` (straight to the registry). */
async function copyTags(server: RegistryServer, repo: string, from: string, tags: string[]): Promise<void> {
  const source = await server.adminFetch(`/v2/${repo}/manifests/${from}`, {
    headers: { accept: MediaType.OciManifest },
  });
  const body = Buffer.from(await source.arrayBuffer());
  const contentType = source.headers.get("content-type") ?? MediaType.OciManifest;
  for (const tag of tags) {
    const put = await server.adminFetch(`/v2/${repo}/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": contentType },
      body,
    });
    assert.equal(put.status, 201, `PUT ${repo}:${tag}`);
  }
}

describe("registry client, anonymous registry", () => {
  let server: RegistryServer;
  let client: RegistryClient;
  let oci: PushResult;
  let v2: PushResult;
  let multi: PushResult;
  let v1: PushResult;

  before(async () => {
    server = await startRegistry({ auth: "anonymous", schema1: true });
    client = clientFor(server);
    oci = await pushImage(server, "library/sample:oci", sampleImage());
    v2 = await pushImage(server, "library/sample:v2", sampleImage(), { format: "v2s2" });
    multi = await pushImage(server, "library/multi:1", multiPlatformIndex());
    v1 = await pushImage(server, "library/old:1", sampleImage(), { format: "v2s1" });
    await pushImage(server, "library/tagged:t1", { layers: [{ entries: [{ path: "x", content: "x" }] }] });
    await copyTags(server, "library/tagged", "t1", ["t2", "t3", "t4", "t5"]);
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  it("ping", async () => {
    assert.deepEqual(await client.ping(), { status: 200, apiVersion: "registry/2.0" });
  });

  it("resolves an OCI image: manifest, config, layers as pushed", async () => {
    const image = await client.resolveImage("library/sample", "oci", AMD64);
    const built = oci.layout.images[0]!;
    assert.equal(image.schema, "oci");
    assert.equal(image.index, undefined);
    assert.equal(image.manifest.digest, oci.manifestDigest);
    assert.equal(image.configDigest, built.configDigest);
    assert.equal(digestOf(image.configBytes), built.configDigest);
    assert.deepEqual(
      image.layers.map((l) => l.digest),
      built.layers.map((l) => l.digest),
    );
    assert.deepEqual(image.config.config?.Entrypoint, ["/bin/sh"]);
    assert.deepEqual(image.platform, { os: "linux", architecture: "amd64" });
  });

  it("resolves a Docker schema 2 image and streams a verified layer", async () => {
    const image = await client.resolveImage("library/sample", "v2", AMD64);
    assert.equal(image.schema, "docker-v2");
    assert.equal(image.manifest.mediaType, MediaType.DockerManifest);
    assert.equal(image.manifest.digest, v2.manifestDigest);
    assert.equal(image.layers.length, 2);
    const layer = image.layers[1]!;
    const blob = await client.openBlob("library/sample", layer.digest);
    const bytes = await readBody(blob.body, 10 << 20, () => new Error("too big"));
    assert.equal(digestOf(bytes), layer.digest);
    assert.equal(bytes.length, layer.size);
    const tail = await client.openBlob("library/sample", layer.digest, { offset: 10 });
    assert.equal(tail.status, 206);
    assert.deepEqual(await readBody(tail.body, 10 << 20, () => new Error("too big")), bytes.subarray(10));
  });

  it("resolves a schema 1 image (signed) into config and bottom-first layers", async () => {
    const image = await client.resolveImage("library/old", "1", AMD64);
    assert.equal(image.schema, "docker-v1");
    assert.equal(image.manifest.digest, v1.manifestDigest);
    assert.equal(image.configDigest, undefined);
    assert.deepEqual(image.config.config?.Entrypoint, ["/bin/sh"]);
    assert.ok(image.layers.length >= 2, "schema 1 image has its layers");
    assert.ok(
      image.layers.every((l) => l.size === -1),
      "schema 1 sizes are unknown",
    );
  });

  it("resolves each platform of a multi-platform index", async () => {
    for (const [i, platform] of MULTI_PLATFORMS.entries()) {
      const image = await client.resolveImage("library/multi", "1", platform);
      assert.equal(image.index?.digest, multi.manifestDigest);
      assert.equal(image.manifest.digest, multi.layout.images[i]!.manifestDigest, platformName(platform));
      assert.deepEqual(image.config.config?.Env, [`PLATFORM=${platformName(platform)}`]);
    }
    const arm64 = await client.resolveImage("library/multi", "1", { os: "linux", architecture: "aarch64" });
    assert.deepEqual(arm64.config.config?.Env, ["PLATFORM=linux/arm64/v8"]);
  });

  it("unknown platform lists the available ones", async () => {
    await assert.rejects(client.resolveImage("library/multi", "1", { os: "linux", architecture: "s390x" }), {
      code: "PLATFORM",
      message: `no image for linux/s390x in ${server.host}/library/multi:1; available: linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6`,
    });
  });

  it("a transient 503 on a blob is retried", async () => {
    const image = await client.resolveImage("library/sample", "oci", AMD64);
    const digest = image.layers[0]!.digest;
    let failures = 0;
    server.intercept = (req, res) => {
      if (!req.url?.includes(digest) || failures >= 1) return false;
      failures++;
      res.writeHead(503, { "retry-after": "0" });
      res.end();
      return true;
    };
    try {
      const blob = await client.openBlob("library/sample", digest);
      const bytes = await readBody(blob.body, 10 << 20, () => new Error("too big"));
      assert.equal(digestOf(bytes), digest);
      assert.equal(failures, 1);
    } finally {
      server.intercept = undefined;
    }
  });

  it("fetch by digest returns the same document", async () => {
    const m = await client.fetchManifest("library/sample", oci.manifestDigest);
    assert.equal(m.digest, oci.manifestDigest);
    assert.equal(m.kind, "manifest");
  });

  it("unknown repository and unknown tag are NOT_FOUND with distinct messages", async () => {
    await assert.rejects(client.resolveImage("library/nothing", "1", AMD64), {
      code: "NOT_FOUND",
      message: `repository unknown: ${server.host}/library/nothing`,
    });
    await assert.rejects(client.resolveImage("library/sample", "nope", AMD64), {
      code: "NOT_FOUND",
      message: `manifest unknown: ${server.host}/library/sample:nope`,
    });
  });

  it("listTags with pageSize 2 over 5 tags follows the Link pages", async () => {
    // distribution 2.8 ignores `n` (tag pagination came in v3): the front paginates like Docker Hub
    // and nvcr.io do, from the registry's full list; first link relative, later ones absolute.
    server.intercept = async (req, res) => {
      const url = new URL(req.url ?? "/", server.url);
      if (url.pathname !== "/v2/library/tagged/tags/list") return false;
      const full = (await (await server.adminFetch(url.pathname)).json()) as { tags: string[] };
      const all = full.tags.sort();
      const n = Number(url.searchParams.get("n") ?? all.length);
      const last = url.searchParams.get("last");
      const start = last ? all.indexOf(last) + 1 : 0;
      const page = all.slice(start, start + n);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (start + n < all.length) {
        const next = `/v2/library/tagged/tags/list?n=${n}&last=${page.at(-1)}`;
        headers.link = `<${start === 0 ? next : server.url + next}>; rel="next"`;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: "library/tagged", tags: page }));
      return true;
    };
    try {
      const before = server.requests.length;
      assert.deepEqual(await client.listTags("library/tagged", { pageSize: 2 }), [
        "t1",
        "t2",
        "t3",
        "t4",
        "t5",
      ]);
      const pages = server.requests
        .slice(before)
        .filter((r) => r.path.startsWith("/v2/library/tagged/tags/list"));
      assert.deepEqual(
        pages.map((r) => r.path),
        [
          "/v2/library/tagged/tags/list?n=2",
          "/v2/library/tagged/tags/list?n=2&last=t2",
          "/v2/library/tagged/tags/list?n=2&last=t4",
        ],
      );
    } finally {
      server.intercept = undefined;
    }
    // and the real registry's own (unpaginated) answer
    assert.deepEqual((await client.listTags("library/tagged")).sort(), ["t1", "t2", "t3", "t4", "t5"]);
  });
});

describe("registry client, Basic auth", () => {
  let server: RegistryServer;

  before(async () => {
    server = await startRegistry({ auth: "basic" });
    await pushImage(server, "team/app:1", sampleImage());
  });
  after(() => server?.stop());

  it("pulls with the right credentials", async () => {
    const client = clientFor(server, { username: server.username!, password: server.password! });
    try {
      const image = await client.resolveImage("team/app", "1", AMD64);
      assert.equal(image.layers.length, 2);
      const basic = "Basic " + Buffer.from(`${server.username}:${server.password}`).toString("base64");
      assert.ok(
        server.requests.some((r) => r.authorization === basic),
        "Basic credentials were sent",
      );
    } finally {
      client.close();
    }
  });

  it("without or with wrong credentials: AUTH", async () => {
    for (const creds of [undefined, { username: server.username!, password: "wrong" }]) {
      const client = clientFor(server, creds);
      try {
        await assert.rejects(client.fetchManifest("team/app", "1"), { code: "AUTH" });
      } finally {
        client.close();
      }
    }
  });
});

describe("registry client, token auth with anonymous pull (public nvidia/* images)", () => {
  let server: RegistryServer;
  before(async () => {
    server = await startRegistry({ auth: "token", anonymousPull: true });
    await pushImage(server, "nvidia/public:1", sampleImage());
  });
  after(() => server?.stop());

  it("pulls with an anonymous token and sends no Authorization to the realm", async () => {
    const client = clientFor(server);
    const start = server.requests.length; // skopeo's push used credentials
    try {
      const image = await client.resolveImage("nvidia/public", "1", AMD64);
      assert.equal(image.layers.length, 2);
      const tokenCalls = server.requests.slice(start).filter((r) => r.path.startsWith("/proxy_auth"));
      assert.ok(tokenCalls.length >= 1, "a token was requested");
      assert.ok(
        tokenCalls.every((r) => r.authorization === undefined),
        "anonymous token requests",
      );
    } finally {
      client.close();
    }
  });
});

describe("registry client, nvcr.io-like token auth", () => {
  let server: RegistryServer;
  let stopped = false;

  before(async () => {
    server = await startRegistry({ auth: "token" });
    await pushImage(server, "nvidia/app:1", sampleImage());
  });
  after(async () => {
    if (!stopped) await server?.stop();
  });

  it("$oauthtoken + API key: the key goes only to /proxy_auth; tokens renew across expiry", async () => {
    const client = clientFor(server, { username: "$oauthtoken", password: server.password! });
    try {
      const startRequests = server.requests.length;
      const tokensBefore = server.tokenRequests;
      const first = await client.resolveImage("nvidia/app", "1", AMD64);
      const afterFirst = server.tokenRequests;
      assert.ok(afterFirst > tokensBefore, "a token was requested");
      // The token the client holds expires now (it still has minutes by its expires_in, so
      // only the registry's refusal can make the client renew it).
      server.expireTokens();
      const expiredFrom = server.requests.length;
      const second = await client.resolveImage("nvidia/app", "1", AMD64);
      assert.equal(second.manifest.digest, first.manifest.digest);
      const refused = server.requests.slice(expiredFrom).filter((r) => r.status === 401);
      assert.ok(refused.length >= 1, "the expired token was refused");
      assert.ok(server.tokenRequests > afterFirst, "a new token was requested after expiry");

      const seen = server.requests.slice(startRequests);
      const basic = "Basic " + Buffer.from(`$oauthtoken:${server.password}`).toString("base64");
      for (const r of seen) {
        if (r.path.startsWith("/proxy_auth")) {
          assert.equal(r.authorization, basic);
          assert.ok(!/[?&]service=/.test(r.path), "no service parameter: the challenge had none");
        } else {
          assert.ok(!r.authorization?.startsWith("Basic"), `no Basic credentials on ${r.path}`);
        }
      }
      assert.ok(
        seen.some((r) => r.path.startsWith("/v2/nvidia/app/") && r.authorization?.startsWith("Bearer ")),
        "Bearer tokens were used on the registry",
      );
    } finally {
      client.close();
    }
  });

  it("ping with credentials obtains a scope-less token", async () => {
    const client = clientFor(server, { username: "$oauthtoken", password: server.password! });
    try {
      assert.equal((await client.ping()).status, 200);
    } finally {
      client.close();
    }
  });

  it("without credentials (no anonymous pull) the user is told to log in", async () => {
    const client = clientFor(server);
    try {
      await assert.rejects(client.fetchManifest("nvidia/app", "1"), {
        code: "AUTH",
        message: new RegExp(
          `^anonymous access to nvidia/app on ${server.host} was refused: give credentials \\(SREGISTRY_NVIDIA_TOKEN`,
        ),
      });
    } finally {
      client.close();
    }
  });

  it("a wrong API key is an AUTH error naming the registry", async () => {
    const client = clientFor(server, { username: "$oauthtoken", password: "nvapi-wrong-key" });
    try {
      await assert.rejects(client.resolveImage("nvidia/app", "1", AMD64), {
        code: "AUTH",
        message: `authentication failed for ${server.host} with the credentials from your configuration: check them`,
      });
    } finally {
      client.close();
    }
  });

  it("a stopped registry is a NETWORK error", async () => {
    const client = clientFor(server, { username: "$oauthtoken", password: server.password! });
    try {
      await server.stop();
      stopped = true;
      await assert.rejects(client.fetchManifest("nvidia/app", "1"), {
        code: "NETWORK",
        message: new RegExp(`^registry ${server.host.replace(/\./g, "\\.")} unreachable: `),
      });
    } finally {
      client.close();
    }
  });
});
