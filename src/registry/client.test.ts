import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import { digestOf } from "../oci/digest.js";
import { Logger, LEVELS } from "../util/log.js";
import { readBody } from "./body.js";
import { RegistryClient } from "./client.js";
import { staticKeychain } from "./credentials.js";
import { nextLink } from "./tags.js";
import { startFakeServer, type FakeServer } from "./fake-server.testing.js";
import { MediaType } from "../oci/types.js";

/** Content served by the fake registry: path → { body, contentType, headers }. */
type Route = { status?: number; body: Buffer | string; headers?: Record<string, string> };
const routes = new Map<string, Route>();
let server: FakeServer;
let client: RegistryClient;
const debugLines: string[] = [];

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const config = json({
  architecture: "arm64",
  os: "linux",
  config: { Env: ["A=1"] },
  rootfs: { type: "layers", diff_ids: [digestOf("l1")] },
});
const layer = Buffer.from("layer-bytes-0123456789");
const manifest = json({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
  layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
});
const index = json({
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    {
      mediaType: MediaType.OciManifest,
      digest: digestOf("other"),
      size: 5,
      platform: { os: "linux", architecture: "amd64" },
    },
    {
      mediaType: MediaType.OciManifest,
      digest: digestOf(manifest),
      size: manifest.length,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    },
  ],
});

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.headers.authorization !== "Basic " + Buffer.from("u:secret-pass").toString("base64")) {
    res.writeHead(401, { "www-authenticate": 'Basic realm="fake"' });
    return void res.end();
  }
  if (url.pathname === "/v2/lib/tags/list") return tagsPage(url, res);
  const route = routes.get(url.pathname);
  if (!route) {
    const code =
      url.pathname.startsWith("/v2/lib/") || url.pathname === "/v2/" ? "MANIFEST_UNKNOWN" : "NAME_UNKNOWN";
    res.writeHead(404, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ errors: [{ code, message: "unknown" }] }));
  }
  const body = Buffer.from(route.body);
  const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
  if (range && url.pathname.includes("/blobs/")) {
    const start = Number(range[1]);
    res.writeHead(206, {
      "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
      "content-length": String(body.length - start),
    });
    return void res.end(body.subarray(start));
  }
  res.writeHead(route.status ?? 200, { "content-length": String(body.length), ...route.headers });
  res.end(body);
}

const ALL_TAGS = ["a", "b", "c", "d", "e"];
function tagsPage(url: URL, res: http.ServerResponse): void {
  const n = Number(url.searchParams.get("n") ?? 100);
  const last = url.searchParams.get("last");
  const start = last ? ALL_TAGS.indexOf(last) + 1 : 0;
  const page = ALL_TAGS.slice(start, start + n);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (start + n < ALL_TAGS.length) {
    // alternate relative and absolute links
    const path = `/v2/lib/tags/list?n=${n}&last=${page.at(-1)}`;
    headers.link = `<${start === 0 ? path : server.url + path}>; rel="next"`;
  }
  res.writeHead(200, headers);
  res.end(JSON.stringify({ name: "lib", tags: page }));
}

before(async () => {
  server = await startFakeServer(handle);
  routes.set("/v2/lib/manifests/multi", { body: index, headers: { "content-type": MediaType.OciIndex } });
  routes.set(`/v2/lib/manifests/${digestOf(manifest)}`, { body: manifest });
  routes.set("/v2/lib/manifests/single", {
    body: manifest,
    headers: { "docker-content-digest": digestOf(manifest) },
  });
  routes.set("/v2/lib/manifests/lying", {
    body: manifest,
    headers: { "docker-content-digest": digestOf("x") },
  });
  routes.set(`/v2/lib/manifests/${digestOf("tampered")}`, { body: manifest });
  routes.set("/v2/lib/manifests/huge", { body: Buffer.alloc(5 * 1024 * 1024, 32) });
  routes.set(`/v2/lib/blobs/${digestOf(config)}`, { body: config });
  routes.set(`/v2/lib/blobs/${digestOf(layer)}`, { body: layer });
  routes.set("/v2/", { body: "{}", headers: { "docker-distribution-api-version": "registry/2.0" } });
  const logger = new Logger({ level: LEVELS.DEBUG, stderr: { write: (t: string) => debugLines.push(t) } });
  client = new RegistryClient({
    registry: server.host,
    insecure: true,
    keychain: staticKeychain({ username: "u", password: "secret-pass" }),
    logger,
    retry: { baseDelayMs: 1 },
  });
});

after(async () => {
  client.close();
  await server.close();
});

test("URLs are built from validated parts", () => {
  assert.equal(client.manifestUrl("lib", "1.0"), `${server.url}/v2/lib/manifests/1.0`);
  assert.equal(client.blobUrl("a/b", digestOf("x")), `${server.url}/v2/a/b/blobs/${digestOf("x")}`);
  assert.throws(() => client.blobUrl("lib", "sha256:../../x"), { code: "BAD_DIGEST" });
  assert.throws(() => client.manifestUrl("../x", "1"), { code: "BAD_REFERENCE" });
  assert.throws(() => client.manifestUrl("lib", "a/b"), { code: "BAD_REFERENCE" });
});

test("resolveImage through an index picks the platform, verifies and returns config and layers", async () => {
  const image = await client.resolveImage("lib", "multi", { os: "linux", architecture: "arm64" });
  assert.equal(image.reference, `${server.host}/lib:multi`);
  assert.equal(image.index?.kind, "index");
  assert.equal(image.manifest.digest, digestOf(manifest));
  assert.equal(image.configDigest, digestOf(config));
  assert.deepEqual(image.configBytes, config);
  assert.deepEqual(image.config.config, { Env: ["A=1"] });
  assert.deepEqual(image.platform, { os: "linux", architecture: "arm64" });
  assert.equal(image.schema, "oci");
  assert.deepEqual(
    image.layers.map((l) => l.digest),
    [digestOf(layer)],
  );
});

test("unknown platform lists what exists", async () => {
  await assert.rejects(client.resolveImage("lib", "multi", { os: "linux", architecture: "s390x" }), {
    code: "PLATFORM",
    message: `no image for linux/s390x in ${server.host}/lib:multi; available: linux/amd64, linux/arm64/v8`,
  });
});

test("fetchManifest by tag checks Docker-Content-Digest", async () => {
  assert.equal((await client.fetchManifest("lib", "single")).digest, digestOf(manifest));
  await assert.rejects(client.fetchManifest("lib", "lying"), {
    code: "DIGEST_MISMATCH",
    message: /Docker-Content-Digest/,
  });
});

test("fetchManifest by digest checks the bytes", async () => {
  await assert.rejects(client.fetchManifest("lib", digestOf("tampered")), {
    code: "DIGEST_MISMATCH",
    message: /requested digest/,
  });
});

test("oversize manifests are refused while reading", async () => {
  await assert.rejects(client.fetchManifest("lib", "huge"), {
    code: "MANIFEST_INVALID",
    message: /larger than 4 MiB/,
  });
});

test("unknown tag vs unknown repository", async () => {
  await assert.rejects(client.fetchManifest("lib", "nope"), {
    code: "NOT_FOUND",
    message: `manifest unknown: ${server.host}/lib:nope`,
  });
  await assert.rejects(client.fetchManifest("other/repo", "1"), {
    code: "NOT_FOUND",
    message: `repository unknown: ${server.host}/other/repo`,
  });
});

test("openBlob: whole, and from an offset with 206", async () => {
  const whole = await client.openBlob("lib", digestOf(layer));
  assert.equal(whole.status, 200);
  assert.equal(whole.totalSize, layer.length);
  assert.deepEqual(await readBody(whole.body, 1000, () => new Error()), layer);
  const part = await client.openBlob("lib", digestOf(layer), { offset: 6 });
  assert.equal(part.status, 206);
  assert.equal(part.totalSize, layer.length);
  assert.equal(part.contentLength, layer.length - 6);
  assert.deepEqual(await readBody(part.body, 1000, () => new Error()), layer.subarray(6));
  await assert.rejects(client.openBlob("lib", digestOf("missing")), {
    code: "NOT_FOUND",
    message: /blob unknown/,
  });
});

test("listTags follows relative and absolute Link pagination", async () => {
  assert.deepEqual(await client.listTags("lib", { pageSize: 2 }), ALL_TAGS);
  assert.deepEqual(await client.listTags("lib"), ALL_TAGS);
  const pages = server.requests.filter(
    (r) => r.url.startsWith("/v2/lib/tags/list?n=2") && r.headers.authorization,
  );
  assert.equal(pages.length, 3);
});

test("nextLink parsing", () => {
  assert.equal(
    nextLink(['</v2/x/tags/list?n=2&last=b>; rel="next"'], "https://r.io/v2/x/tags/list"),
    "https://r.io/v2/x/tags/list?n=2&last=b",
  );
  assert.equal(
    nextLink(['<https://r.io/a>; rel="prev", <https://r.io/b>; rel=next'], "https://r.io/"),
    "https://r.io/b",
  );
  assert.equal(nextLink(['<https://r.io/a>; rel="prev"'], "https://r.io/"), undefined);
  assert.equal(nextLink([], "https://r.io/"), undefined);
});

test("ping reports the API version; debug log has requests but no secret", async () => {
  assert.deepEqual(await client.ping(), { status: 200, apiVersion: "registry/2.0" });
  const log = debugLines.join("");
  assert.match(log, /DEBUG GET http:\/\/127\.0\.0\.1:\d+\/v2\/ -> 200 \(\d+ ms\)/);
  assert.ok(!log.includes("secret-pass"), "password logged");
  assert.ok(!log.includes(Buffer.from("u:secret-pass").toString("base64")), "Basic credentials logged");
});

test("wrong credentials: AUTH", async () => {
  const bad = new RegistryClient({
    registry: server.host,
    insecure: true,
    keychain: staticKeychain({ username: "u", password: "wrong" }),
  });
  try {
    await assert.rejects(bad.fetchManifest("lib", "single"), { code: "AUTH" });
  } finally {
    bad.close();
  }
});

test("registry down: NETWORK", async () => {
  const gone = await startFakeServer(() => undefined);
  await gone.close();
  const down = new RegistryClient({ registry: gone.host, insecure: true, retry: { baseDelayMs: 1 } });
  try {
    await assert.rejects(down.fetchManifest("lib", "1"), {
      code: "NETWORK",
      message: /unreachable: connect ECONNREFUSED/,
    });
  } finally {
    down.close();
  }
});
