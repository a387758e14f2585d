import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import { createServer } from "node:net";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore } from "../cache/blob-store.js";
import { parseRegistriesConf, type RegistryRule } from "../config/registries-conf.js";
import { digestOf } from "../oci/digest.js";
import { Logger, LEVELS } from "../util/log.js";
import { readBody } from "./body.js";
import { RegistryClient } from "./client.js";
import { staticKeychain, type Keychain } from "./credentials.js";
import { mapRepository, matchName, planMirrors, type MirrorPlan } from "./mirrors.js";
import { VERIFY_IN_MEMORY_BYTES } from "./mirror-verify.js";
import { startFakeServer, type FakeServer } from "./fake-server.testing.js";
import { MediaType } from "../oci/types.js";

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const layer = Buffer.from("layer-bytes-from-anywhere");
const config = json({
  architecture: "amd64",
  os: "linux",
  rootfs: { type: "layers", diff_ids: [digestOf("x")] },
});
const manifest = json({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
  layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
});
const ORIGIN_AUTH = "Basic " + Buffer.from("u:origin-secret").toString("base64");
const MIRROR_AUTH = "Basic " + Buffer.from("m:mirror-secret").toString("base64");

/** Serves the image under `/v2/<repo>/...`; `auth` is the Authorization it demands (if any). */
function registry(repo: string, options: { auth?: string; status?: number } = {}) {
  const content = new Map<string, Buffer>([
    [`/v2/${repo}/manifests/1.0`, manifest],
    [`/v2/${repo}/manifests/${digestOf(manifest)}`, manifest],
    [`/v2/${repo}/blobs/${digestOf(config)}`, config],
    [`/v2/${repo}/blobs/${digestOf(layer)}`, layer],
  ]);
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (options.auth && req.headers.authorization !== options.auth) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="fake"' });
      return void res.end();
    }
    const body = content.get(new URL(req.url ?? "/", "http://x").pathname);
    if (options.status || !body) {
      res.writeHead(options.status ?? 404, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN" }] }));
    }
    const isManifest = req.url?.includes("/manifests/");
    res.writeHead(200, {
      "content-type": isManifest ? MediaType.OciManifest : "application/octet-stream",
      ...(isManifest ? { "docker-content-digest": digestOf(body) } : {}),
    });
    res.end(body);
  };
}

let origin: FakeServer;
const servers: FakeServer[] = [];
const debug: string[] = [];
const sink = { write: (line: string) => debug.push(line) };
const logger = new Logger({ level: LEVELS.DEBUG, stdout: sink, stderr: sink });

async function server(handler: Parameters<typeof startFakeServer>[0]): Promise<FakeServer> {
  const s = await startFakeServer(handler);
  servers.push(s);
  return s;
}

function rule(text: string): RegistryRule {
  return parseRegistriesConf(text, "test.conf")[0]!;
}

function client(plan: MirrorPlan, keychain?: Keychain): RegistryClient {
  return new RegistryClient({
    registry: origin.host,
    insecure: true,
    keychain: staticKeychain({ username: "u", password: "origin-secret" }),
    logger,
    retry: { attempts: 1 },
    mirrors: { plan, keychain },
  });
}

function mirrorsPlan(...hosts: string[]): MirrorPlan {
  return { mirrors: hosts.map((host) => ({ host, insecure: true, from: "", to: "", tags: true })) };
}

async function pullAll(c: RegistryClient, repo = "team/app"): Promise<Buffer> {
  const image = await c.resolveImage(repo, "1.0", { os: "linux", architecture: "amd64" });
  const blob = await c.openBlob(repo, image.layers[0]!.digest);
  return readBody(blob.body, 1 << 20, () => new Error("too big"));
}

before(async () => {
  origin = await server(registry("team/app", { auth: ORIGIN_AUTH }));
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

test("plans map the prefix's namespace onto each mirror's path", () => {
  const r = rule(`
[[registry]]
prefix = "nvcr.io/nvidia"
[[registry.mirror]]
location = "cache.site:5000/ngc"
[[registry.mirror]]
location = "digests.site"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tags.site/t"
pull-from-mirror = "tag-only"
`);
  const byTag = planMirrors(r, "nvcr.io", "nvidia/clara/parabricks", { byDigest: false });
  assert.deepEqual(
    byTag.mirrors.map((m) => [m.host, mapRepository(m, "nvidia/clara/parabricks"), m.tags]),
    [
      ["cache.site:5000", "ngc/clara/parabricks", true],
      ["digests.site", "clara/parabricks", false],
      ["tags.site", "t/clara/parabricks", true],
    ],
  );
  assert.equal(mapRepository(byTag.mirrors[0]!, "other/repo"), undefined, "outside the prefix: origin only");
  const byDigest = planMirrors(r, "nvcr.io", "nvidia/cuda", { byDigest: true });
  assert.deepEqual(
    byDigest.mirrors.map((m) => m.host),
    ["cache.site:5000", "digests.site"],
    "tag-only mirrors sit out a pull by digest",
  );

  const hub = rule('[[registry]]\nprefix = "docker.io"\n[[registry.mirror]]\nlocation = "hub.site"\n');
  assert.equal(matchName("index.docker.io", "library/ubuntu"), "docker.io/library/ubuntu");
  const hubPlan = planMirrors(hub, "index.docker.io", "library/ubuntu", { byDigest: false });
  assert.equal(mapRepository(hubPlan.mirrors[0]!, "library/ubuntu"), "library/ubuntu");

  const rewritten = planMirrors(
    rule('[[registry]]\nprefix = "example.com/foo"\nlocation = "internal.site/bar"\ninsecure = true\n'),
    "example.com",
    "foo/app",
    { byDigest: false },
  );
  assert.deepEqual(rewritten.primary, { host: "internal.site", insecure: true, from: "foo", to: "bar" });
  assert.equal(mapRepository(rewritten.primary!, "foo/app"), "bar/app");

  assert.throws(
    () =>
      planMirrors(rule('[[registry]]\nprefix = "*.corp.example"\nblocked = true\n'), "a.corp.example", "x", {
        byDigest: false,
      }),
    (err: Error & { code?: string }) => err.code === "FORBIDDEN" && /blocked by test\.conf/.test(err.message),
  );
  assert.deepEqual(planMirrors(undefined, "nvcr.io", "nvidia/cuda", { byDigest: false }), { mirrors: [] });
});

test("mirrors are tried in order; a miss moves on; the origin's credentials never reach a mirror", async () => {
  const missing = await server(registry("elsewhere/app"));
  const cache = await server(registry("team/app"));
  debug.length = 0;
  const c = client(mirrorsPlan(missing.host, cache.host));
  try {
    assert.deepEqual(await pullAll(c), layer);
  } finally {
    c.close();
  }
  assert.equal(origin.requests.length, 0, "the origin was not needed");
  assert.ok(missing.requests.length >= 1, "the first mirror was asked first");
  assert.ok(cache.requests.some((r) => r.url.includes("/blobs/")));
  for (const r of [...missing.requests, ...cache.requests]) assert.equal(r.headers.authorization, undefined);
  assert.ok(debug.some((l) => l.includes(`blob ${digestOf(layer)} of team/app: from mirror ${cache.host}`)));
  assert.ok(debug.some((l) => l.includes(`mirror ${missing.host} answered HTTP 404`)));
});

test("a mirror with credentials of its own gets those, found by its host", async () => {
  const cache = await server(registry("team/app", { auth: MIRROR_AUTH }));
  const keychain: Keychain = {
    resolve: async (host) => (host === cache.host ? { username: "m", password: "mirror-secret" } : undefined),
  };
  const c = client(mirrorsPlan(cache.host), keychain);
  try {
    assert.deepEqual(await pullAll(c), layer);
  } finally {
    c.close();
  }
  const authorised = cache.requests.filter((r) => r.headers.authorization);
  assert.ok(authorised.length >= 1);
  assert.ok(authorised.every((r) => r.headers.authorization === MIRROR_AUTH));
});

test("a mirror that is down, failing or refusing falls back to the origin", async () => {
  const failing = await server(registry("team/app", { status: 503 }));
  const refusing = await server(registry("team/app", { auth: MIRROR_AUTH }));
  const closedPort = await freeClosedPort();
  const before = origin.requests.length;
  debug.length = 0;
  const c = client(mirrorsPlan(`127.0.0.1:${closedPort}`, failing.host, refusing.host));
  try {
    assert.deepEqual(await pullAll(c), layer);
  } finally {
    c.close();
  }
  assert.ok(origin.requests.length > before, "the origin served");
  assert.ok(
    debug.some((l) => /failed \(.*ECONNREFUSED/.test(l) && l.includes(`127.0.0.1:${closedPort}`)),
    debug.join(""),
  );
  assert.equal(
    debug.filter((l) => l.includes(`127.0.0.1:${closedPort} failed`)).length,
    1,
    "a dead mirror is skipped after its first failure",
  );
  assert.ok(debug.some((l) => l.includes(`mirror ${failing.host} answered HTTP 503`)));
  assert.ok(debug.some((l) => l.includes(`mirror ${refusing.host} answered HTTP 401`)));
  assert.ok(debug.some((l) => l.includes(`from the origin ${origin.host}`)));
  for (const r of [...failing.requests, ...refusing.requests])
    assert.equal(r.headers.authorization, undefined);
});

// What gave up on the mirror is checked (its headers deadline), not seconds: the test's timeout
// is only a hang guard, so a loaded machine cannot fail it.
test(
  "a mirror that accepts but never answers is given up after the headers deadline",
  { timeout: 60_000 },
  async () => {
    const hanging = await server(() => {
      /* never answers */
    });
    debug.length = 0;
    const c = client(mirrorsPlan(hanging.host));
    try {
      assert.deepEqual(await pullAll(c), layer);
    } finally {
      c.close();
    }
    assert.ok(
      debug.some((l) => l.includes(`mirror ${hanging.host} failed (no answer within 4000 ms)`)),
      debug.join(""),
    );
    assert.equal(
      debug.filter((l) => l.includes(`mirror ${hanging.host} failed`)).length,
      1,
      "one deadline, then the mirror is skipped",
    );
  },
);

test("digest-only mirrors never answer a tag; tag manifests come from the origin", async () => {
  const cache = await server(registry("team/app"));
  const before = origin.requests.length;
  const plan: MirrorPlan = { mirrors: [{ host: cache.host, insecure: true, from: "", to: "", tags: false }] };
  const c = client(plan);
  try {
    assert.deepEqual(await pullAll(c), layer);
  } finally {
    c.close();
  }
  assert.ok(
    !cache.requests.some((r) => r.url.endsWith("/manifests/1.0")),
    "the tag never went to the mirror",
  );
  const fromOrigin = origin.requests.slice(before).map((r) => r.url);
  assert.ok(fromOrigin.some((u) => u.endsWith("/manifests/1.0")));
  assert.ok(!fromOrigin.some((u) => u.includes("/blobs/")), "blobs came from the mirror");
});

test("a mirror serving wrong manifests and blobs is discarded; the origin serves them", async () => {
  const forged = json({ ...JSON.parse(manifest.toString()), annotations: { forged: "yes" } });
  const liar = await server((req, res) => {
    const isManifest = req.url?.includes("/manifests/");
    // By tag it announces the true digest, as a mirror whose storage rotted would.
    res.writeHead(200, {
      "content-type": isManifest ? MediaType.OciManifest : "application/octet-stream",
      ...(isManifest ? { "docker-content-digest": digestOf(manifest) } : {}),
    });
    res.end(isManifest ? forged : Buffer.alloc(layer.length, 0x41));
  });
  const before = origin.requests.length;
  debug.length = 0;
  const c = client(mirrorsPlan(liar.host));
  try {
    assert.deepEqual(await pullAll(c), layer, "the pull succeeds with the origin's bytes");
    const byDigest = await c.fetchManifest("team/app", digestOf(manifest));
    assert.equal(byDigest.digest, digestOf(manifest));
  } finally {
    c.close();
  }
  const fromOrigin = origin.requests.slice(before).map((r) => r.url);
  for (const path of ["/manifests/1.0", `/blobs/${digestOf(layer)}`, `/manifests/${digestOf(manifest)}`])
    assert.ok(
      fromOrigin.some((u) => u.endsWith(path)),
      `the origin served ${path}`,
    );
  const named = debug.filter((l) => l.includes(`mirror ${liar.host} served`) && l.includes("discarded"));
  assert.ok(named.length >= 3, debug.join(""));
  assert.ok(debug.some((l) => l.includes(`blob ${digestOf(layer)} of team/app: mirror ${liar.host} served`)));
});

/** A blob larger than what mirror-verify.ts checks in memory, so it is checked as it streams. */
const big = Buffer.alloc(VERIFY_IN_MEMORY_BYTES + 512 * 1024, 7);
for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
const bigDigest = digestOf(big);

/** A registry with `team/app`'s big blob; `serve` says what the mirror does with it. */
function bigBlobServer(serve: (res: http.ServerResponse) => void) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === `/v2/team/app/blobs/${bigDigest}`) return serve(res);
    res.writeHead(404);
    res.end();
  };
}

async function ensureBig(c: RegistryClient, label: string) {
  const dir = await mkdtemp(join(tmpdir(), `mirror-${label}-`));
  const store = new BlobStore(dir);
  const opener = async (offset: number) => {
    const opened = await c.openBlob("team/app", bigDigest, { offset });
    return { body: opened.body, offset: opened.status === 206 ? offset : 0 };
  };
  let progress = 0;
  try {
    const result = await store.ensure({ digest: bigDigest, size: big.length }, opener, {
      onProgress: (n) => (progress += n),
      sleep: async () => undefined,
    });
    return {
      result,
      progress,
      bytes: await readFile(result.path),
      temp: await readdir(join(dir, "tmp")),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const bigOrigin = () =>
  server((req, res) => {
    if (req.url !== `/v2/team/app/blobs/${bigDigest}`) return registry("team/app")(req, res);
    res.writeHead(200, { "content-length": String(big.length) });
    res.end(big);
  });

for (const [label, serve] of [
  [
    "corrupts",
    (res: http.ServerResponse) => {
      const bad = Buffer.from(big);
      bad[bad.length - 10] = 0xff - (bad[bad.length - 10] ?? 0);
      res.writeHead(200, { "content-length": String(bad.length) });
      res.end(bad);
    },
  ],
  [
    "makes longer",
    (res: http.ServerResponse) => {
      const longer = Buffer.concat([big, Buffer.from("one more")]);
      res.writeHead(200, { "content-length": String(longer.length) });
      res.end(longer);
    },
  ],
  [
    "cuts short",
    (res: http.ServerResponse) => {
      res.writeHead(200, { "content-length": String(big.length) });
      res.write(big.subarray(0, VERIFY_IN_MEMORY_BYTES + 1024), () => res.destroy());
    },
  ],
] as const) {
  test(`a large blob a mirror ${label} is discarded, fetched again from the origin, and only verified bytes are kept`, async () => {
    const liar = await server(bigBlobServer(serve));
    const home = await bigOrigin();
    const c = new RegistryClient({
      registry: home.host,
      insecure: true,
      logger,
      retry: { attempts: 1 },
      mirrors: { plan: mirrorsPlan(liar.host) },
    });
    debug.length = 0;
    try {
      const got = await ensureBig(c, label.replace(" ", "-"));
      assert.equal(got.result.downloaded, big.length);
      assert.ok(got.bytes.equals(big), "the stored blob is the true one");
      assert.deepEqual(got.temp, [], "nothing unverified is left in the cache");
      assert.equal(got.progress, big.length, "discarded bytes were taken back from the progress");
    } finally {
      c.close();
    }
    assert.equal(liar.requests.length, 1, "the bad mirror is not asked again for that blob");
    assert.ok(home.requests.some((r) => r.url.endsWith(`/blobs/${bigDigest}`) && !r.headers.range));
    assert.ok(
      debug.some((l) => l.includes(`mirror ${liar.host} served`) && l.includes("fetching again")),
      debug.join(""),
    );
  });
}

test(
  "a mirror that stalls mid-body is given up after its idle timeout; the origin serves the blob",
  { timeout: 60_000 },
  async () => {
    const sockets: import("node:net").Socket[] = [];
    const staller = await server(
      bigBlobServer((res) => {
        res.writeHead(200, { "content-length": String(big.length) });
        res.write(big.subarray(0, VERIFY_IN_MEMORY_BYTES + 1024)); // ... then nothing, ever
        sockets.push(res.socket!);
      }),
    );
    const home = await bigOrigin();
    const c = new RegistryClient({
      registry: home.host,
      insecure: true,
      logger,
      retry: { attempts: 1 },
      mirrors: { plan: mirrorsPlan(staller.host), idleTimeoutMs: 300 },
    });
    debug.length = 0;
    try {
      const got = await ensureBig(c, "stall");
      assert.ok(got.bytes.equals(big));
      assert.deepEqual(got.temp, []);
    } finally {
      c.close();
      for (const s of sockets) s.destroy();
    }
    assert.ok(
      home.requests.some((r) => r.url.endsWith(`/blobs/${bigDigest}`)),
      "the origin served",
    );
    assert.ok(
      debug.some(
        (l) => l.includes(`mirror ${staller.host} served a body that broke`) && /idle|300 ms/.test(l),
      ),
      debug.join(""),
    );
  },
);

test("tag lists always come from the origin", async () => {
  const cache = await server(registry("team/app"));
  const c = client(mirrorsPlan(cache.host));
  try {
    await c.listTags("team/app").catch(() => undefined);
  } finally {
    c.close();
  }
  assert.equal(cache.requests.length, 0);
});

async function freeClosedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test("a rewritten location replaces the origin, for tags too, with its own credentials", async () => {
  const internal = await server(registry("bar/app"));
  const before = origin.requests.length;
  const plan = planMirrors(
    rule(
      `[[registry]]\nprefix = "${origin.host}/team"\nlocation = "${internal.host}/bar"\ninsecure = true\n`,
    ),
    origin.host,
    "team/app",
    { byDigest: false },
  );
  const c = client(plan);
  try {
    assert.deepEqual(await pullAll(c), layer);
    await c.listTags("team/app").catch(() => undefined);
  } finally {
    c.close();
  }
  assert.equal(origin.requests.length, before, "the named registry is never contacted");
  assert.ok(internal.requests.some((r) => r.url === "/v2/bar/app/manifests/1.0"));
  assert.ok(internal.requests.some((r) => r.url.startsWith("/v2/bar/app/tags/list")));
  for (const r of internal.requests) assert.equal(r.headers.authorization, undefined);
});
