import { test, after } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import net from "node:net";
import { createHttpTransport, type Transport } from "./http.js";
import { scopeForPath, withAuth } from "./auth.js";
import { staticKeychain, type Credentials } from "./credentials.js";
import { responseError } from "./errors.js";
import { TokenCache } from "./token.js";
import {
  fakeClock,
  fakeResponse,
  fakeTransport,
  startFakeServer,
  type FakeServer,
} from "./fake-server.testing.js";
import { SregistryError } from "../util/errors.js";

const base = createHttpTransport();
after(() => base.close());

const API_KEY = "nvapi-very-secret-key";
const basicKey = "Basic " + Buffer.from(`$oauthtoken:${API_KEY}`).toString("base64");

interface Realm {
  server: FakeServer;
  issued: string[];
  /** status to answer with, or a JSON body */
  answer: (req: http.IncomingMessage, n: number) => { status: number; json?: object };
}

/** A token realm that issues tok-1, tok-2, ... (optionally after a delay). */
async function startRealm(options: { expiresIn?: number; delayMs?: number; answer?: Realm["answer"] } = {}) {
  const realm = { issued: [] as string[] } as Realm;
  realm.answer =
    options.answer ??
    ((_req, n) => ({ status: 200, json: { token: `tok-${n}`, expires_in: options.expiresIn ?? 300 } }));
  realm.server = await startFakeServer((req, res) => {
    const { status, json } = realm.answer(req, realm.issued.length + 1);
    if (status === 200) realm.issued.push((json as { token?: string }).token ?? "");
    setTimeout(() => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json ?? { errors: [{ code: "DENIED" }] }));
    }, options.delayMs ?? 0);
  });
  return realm;
}

/** A registry that wants `Bearer <one of valid()>`; challenge without service, like nvcr.io. */
async function startBearerRegistry(realmUrl: string, valid: () => string[]) {
  return startFakeServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    if (!valid().some((t) => auth === `Bearer ${t}`)) {
      const scope = /\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(req.url ?? "")?.[1];
      const scopePart = scope ? `,scope="repository:${scope}:pull"` : "";
      res.writeHead(401, { "www-authenticate": `Bearer realm="${realmUrl}"${scopePart}` });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    res.end("ok");
  });
}

async function get(transport: Transport, url: string) {
  const res = await transport({ method: "GET", url });
  res.body.resume();
  return res.status;
}

test("scopeForPath", () => {
  assert.equal(scopeForPath("/v2/nvidia/cuda/manifests/12.0"), "repository:nvidia/cuda:pull");
  assert.equal(scopeForPath("/v2/a/b/c/blobs/sha256:00"), "repository:a/b/c:pull");
  assert.equal(scopeForPath("/v2/library/busybox/tags/list"), "repository:library/busybox:pull");
  assert.equal(scopeForPath("/v2/"), undefined);
  assert.equal(scopeForPath("/v2/_catalog"), undefined);
  // The push flow's writes ask for push too.
  assert.equal(scopeForPath("/v2/a/b/blobs/uploads/", "POST"), "repository:a/b:pull,push");
  assert.equal(scopeForPath("/v2/a/b/blobs/uploads/u1?_state=x", "PATCH"), "repository:a/b:pull,push");
  assert.equal(scopeForPath("/v2/a/b/manifests/1", "PUT"), "repository:a/b:pull,push");
  assert.equal(scopeForPath("/v2/a/b/blobs/sha256:00", "HEAD"), "repository:a/b:pull");
  assert.equal(scopeForPath("/v2/a/b/manifests/1", "DELETE"), "repository:a/b:delete");
});

test("bearer flow: Basic key only to the realm, no service param, token to the registry, cached", async () => {
  const realm = await startRealm();
  const registry = await startBearerRegistry(`${realm.server.url}/proxy_auth`, () => realm.issued);
  try {
    const transport = withAuth(base, {
      registry: registry.host,
      keychain: staticKeychain({ username: "$oauthtoken", password: API_KEY }),
      insecure: true,
    });
    assert.equal(await get(transport, `${registry.url}/v2/nvidia/x/manifests/1`), 200);
    assert.equal(await get(transport, `${registry.url}/v2/nvidia/x/blobs/sha256:ab`), 200);

    assert.equal(realm.server.requests.length, 1);
    const tokenReq = new URL(realm.server.requests[0]!.url, realm.server.url);
    assert.equal(tokenReq.pathname, "/proxy_auth");
    assert.equal(tokenReq.searchParams.get("scope"), "repository:nvidia/x:pull");
    assert.equal(tokenReq.searchParams.has("service"), false);
    assert.equal(realm.server.requests[0]!.headers.authorization, basicKey);

    const sent = registry.requests.map((r) => r.headers.authorization);
    assert.deepEqual(sent, [undefined, "Bearer tok-1", "Bearer tok-1"]);
    for (const r of registry.requests)
      assert.ok(!JSON.stringify(r.headers).includes(API_KEY), "API key sent to the registry");
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});

test("service is passed when the challenge has one; access_token accepted", async () => {
  const realm = await startRealm({
    answer: (_r, n) => ({ status: 200, json: { access_token: `tok-${n}` } }),
  });
  realm.issued = [];
  const registry = await startFakeServer((req, res) => {
    if (req.headers.authorization !== "Bearer tok-1") {
      res.writeHead(401, { "www-authenticate": `Bearer service="reg",realm="${realm.server.url}/t"` });
      return res.end();
    }
    res.end();
  });
  try {
    const transport = withAuth(base, { registry: registry.host });
    assert.equal(await get(transport, `${registry.url}/v2/a/tags/list`), 200);
    const tokenReq = new URL(realm.server.requests[0]!.url, realm.server.url);
    assert.equal(tokenReq.searchParams.get("service"), "reg");
    assert.equal(realm.server.requests[0]!.headers.authorization, undefined, "anonymous token request");
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});

test("concurrent requests share one token request", async () => {
  const realm = await startRealm({ delayMs: 50 });
  const registry = await startBearerRegistry(`${realm.server.url}/t`, () => realm.issued);
  try {
    const transport = withAuth(base, { registry: registry.host });
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => get(transport, `${registry.url}/v2/r/blobs/sha256:${i}`)),
    );
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    assert.equal(realm.server.requests.length, 1);
    // a second repository is a different scope: a new token
    assert.equal(await get(transport, `${registry.url}/v2/other/manifests/x`), 200);
    assert.equal(realm.server.requests.length, 2);
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});

test("a 401 with a cached token refreshes it once and retries", async () => {
  const realm = await startRealm();
  let accept: string[] = [];
  const registry = await startBearerRegistry(`${realm.server.url}/t`, () => accept);
  try {
    const transport = withAuth(base, { registry: registry.host });
    accept = ["tok-1"];
    assert.equal(await get(transport, `${registry.url}/v2/r/manifests/a`), 200);
    accept = ["tok-2"]; // the registry revoked tok-1
    assert.equal(await get(transport, `${registry.url}/v2/r/manifests/b`), 200);
    assert.equal(realm.server.requests.length, 2);
    accept = []; // nothing is valid any more: one refresh, then the 401 is returned
    assert.equal(await get(transport, `${registry.url}/v2/r/manifests/c`), 401);
    assert.equal(realm.server.requests.length, 3);
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});

test("tokens are renewed shortly before expiry (fake clock)", async () => {
  const clock = fakeClock();
  const realm = await startRealm({ expiresIn: 3 });
  const registry = await startBearerRegistry(`${realm.server.url}/t`, () => realm.issued);
  try {
    const transport = withAuth(base, { registry: registry.host, now: clock.now });
    await get(transport, `${registry.url}/v2/r/manifests/a`);
    clock.advance(2000);
    await get(transport, `${registry.url}/v2/r/manifests/a`);
    assert.equal(realm.server.requests.length, 1, "still fresh at 2 s of 3 s");
    clock.advance(800); // inside the 0.3 s margin
    await get(transport, `${registry.url}/v2/r/manifests/a`);
    assert.equal(realm.server.requests.length, 2, "renewed before expiry");
    const sent = registry.requests.map((r) => r.headers.authorization);
    assert.equal(sent.at(-1), "Bearer tok-2");
    assert.equal(sent.filter((s) => s === undefined).length, 1, "only the first request took a 401");
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});

test("token endpoint 401 and 403 become AUTH and FORBIDDEN errors without secrets", async () => {
  for (const [status, code, pattern] of [
    [
      401,
      "AUTH",
      /^authentication failed for .* with the credentials from SREGISTRY_NVIDIA_TOKEN \(environment\): check them$/,
    ],
    [403, "FORBIDDEN", /^access denied to nvidia\/x on .* \(not entitled\?\)$/],
  ] as const) {
    const realm = await startRealm({ answer: () => ({ status }) });
    const registry = await startBearerRegistry(`${realm.server.url}/t`, () => []);
    try {
      const transport = withAuth(base, {
        registry: registry.host,
        keychain: staticKeychain({
          username: "$oauthtoken",
          password: API_KEY,
          source: "SREGISTRY_NVIDIA_TOKEN (environment)",
        }),
        insecure: true,
      });
      await assert.rejects(
        get(transport, `${registry.url}/v2/nvidia/x/manifests/1`),
        (err: SregistryError) => {
          assert.equal(err.code, code);
          assert.match(err.message, pattern);
          assert.ok(!err.message.includes(API_KEY), "API key in the message");
          return true;
        },
      );
    } finally {
      await Promise.all([realm.server.close(), registry.close()]);
    }
  }
});

test("anonymous 401 from the realm asks the user to log in", async () => {
  const realm = await startRealm({ answer: () => ({ status: 401 }) });
  const registry = await startBearerRegistry(`${realm.server.url}/t`, () => []);
  try {
    const transport = withAuth(base, { registry: registry.host });
    await assert.rejects(get(transport, `${registry.url}/v2/nvidia/x/manifests/1`), {
      code: "AUTH",
      message: /anonymous access to nvidia\/x on .* was refused/,
    });
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});

test("credentials are not sent to a plain-http realm unless the registry is insecure", async () => {
  const inner = fakeTransport(() =>
    fakeResponse(401, "", { "www-authenticate": 'Bearer realm="http://evil.example/t"' }),
  );
  const transport = withAuth(inner, {
    registry: "reg.io",
    keychain: staticKeychain({ username: "u", password: "secret-pw" }),
  });
  await assert.rejects(
    transport({ method: "GET", url: "https://reg.io/v2/a/manifests/b" }),
    /plain-http token realm/,
  );
  assert.equal(inner.requests.length, 1);
});

test("Basic challenge: credentials go to the registry host, then preemptively", async () => {
  const registry = await startFakeServer((req, res) => {
    if (req.headers.authorization !== "Basic " + Buffer.from("alice:pw").toString("base64")) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="Registry Realm"' });
      return res.end();
    }
    res.end();
  });
  try {
    const transport = withAuth(base, {
      registry: registry.host,
      keychain: staticKeychain({ username: "alice", password: "pw" }),
      insecure: true,
    });
    assert.equal(await get(transport, `${registry.url}/v2/a/manifests/1`), 200);
    assert.equal(await get(transport, `${registry.url}/v2/b/manifests/1`), 200);
    assert.equal(registry.requests.length, 3);
    // without credentials, the 401 comes back as is
    const anonymous = withAuth(base, { registry: registry.host });
    assert.equal(await get(anonymous, `${registry.url}/v2/a/manifests/1`), 401);
  } finally {
    await registry.close();
  }
});

test("requests to other hosts never carry Authorization", async () => {
  const inner = fakeTransport(() => fakeResponse(200));
  const transport = withAuth(inner, {
    registry: "reg.io",
    keychain: staticKeychain({ username: "u", password: "p" }),
  });
  (
    await transport({ method: "GET", url: "https://cdn.io/x", headers: { Authorization: "Bearer leak" } })
  ).body.resume();
  assert.equal(inner.requests[0]?.headers?.authorization, undefined);
  assert.equal(inner.requests[0]?.headers?.Authorization, undefined);
});

test("identity token: OAuth2 refresh_token POST to the realm", async () => {
  const inner = fakeTransport((req) => {
    const url = new URL(req.url);
    if (url.host === "auth.reg.io") return fakeResponse(200, JSON.stringify({ access_token: "acc" }));
    if (req.headers?.authorization === "Bearer acc") return fakeResponse(200);
    return fakeResponse(401, "", {
      "www-authenticate": 'Bearer realm="https://auth.reg.io/token",service="reg.io"',
    });
  });
  const transport = withAuth(inner, {
    registry: "reg.io",
    keychain: staticKeychain({ username: "", password: "", identityToken: "refresh-me" }),
  });
  const res = await transport({ method: "GET", url: "https://reg.io/v2/a/manifests/b" });
  assert.equal(res.status, 200);
  const tokenReq = inner.requests[1]!;
  assert.equal(tokenReq.method, "POST");
  const form = new URLSearchParams(tokenReq.body!.toString());
  assert.equal(form.get("grant_type"), "refresh_token");
  assert.equal(form.get("refresh_token"), "refresh-me");
  assert.equal(form.get("service"), "reg.io");
  assert.equal(form.get("scope"), "repository:a:pull");
});

test("TokenCache: expires_in default, sharing and invalidate", async () => {
  const clock = fakeClock();
  const cache = new TokenCache({ now: clock.now });
  let calls = 0;
  const fetch = async () => ({ value: `t${++calls}`, expiresAt: clock.now() + 60_000 });
  const [a, b] = await Promise.all([cache.get("k", fetch), cache.get("k", fetch)]);
  assert.equal(a.value, "t1");
  assert.equal(b.value, "t1");
  cache.invalidate("k", "other-token");
  assert.equal((await cache.get("k", fetch)).value, "t1", "invalidating a stale value keeps the newer one");
  cache.invalidate("k", "t1");
  assert.equal((await cache.get("k", fetch)).value, "t2");
  clock.advance(53_000);
  assert.equal((await cache.get("k", fetch)).value, "t2");
  clock.advance(1_500); // margin min(30 s, 10% of 60 s) = 6 s: renewed from 54 s on
  assert.equal((await cache.get("k", fetch)).value, "t3");
});

/** A TCP listener on "another host" (127.0.0.2) that only counts connections. */
async function startConnectionCounter(): Promise<{
  host: string;
  connections: () => number;
  close(): Promise<void>;
}> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.2:${port}`,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const scheme of ["http", "https"] as const) {
  test(`a hostile ${scheme} realm on another host gets no connection and no key`, async () => {
    const other = await startConnectionCounter();
    const registry = await startBearerRegistry(`${scheme}://${other.host}/token`, () => []);
    try {
      const transport = withAuth(base, {
        registry: registry.host,
        keychain: staticKeychain({ username: "$oauthtoken", password: API_KEY }),
        insecure: true,
      });
      await assert.rejects(
        get(transport, `${registry.url}/v2/nvidia/x/manifests/1`),
        (err: SregistryError) => {
          assert.equal(err.code, "UNTRUSTED_REALM");
          assert.ok(err.message.includes(other.host), err.message);
          if (scheme === "https") assert.ok(err.message.includes(`SREGISTRY_TRUSTED_REALMS=${other.host}`));
          assert.ok(!err.message.includes(API_KEY));
          return true;
        },
      );
      assert.equal(other.connections(), 0);
      for (const r of registry.requests) assert.equal(r.headers.authorization, undefined);
    } finally {
      await Promise.all([other.close(), registry.close()]);
    }
  });
}

test("an anonymous token request goes wherever the challenge says, even another host over http", async () => {
  const realm = await startFakeServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: "anon-1" }));
  }, "127.0.0.2");
  const registry = await startBearerRegistry(`${realm.url}/token`, () => ["anon-1"]);
  try {
    const transport = withAuth(base, { registry: registry.host });
    assert.equal(await get(transport, `${registry.url}/v2/library/x/manifests/1`), 200);
    assert.equal(realm.requests.length, 1);
    assert.equal(realm.requests[0]!.headers.authorization, undefined);
  } finally {
    await Promise.all([realm.close(), registry.close()]);
  }
});

test("a realm outside the registry's domain gets credentials when trusted (SREGISTRY_TRUSTED_REALMS)", async () => {
  const inner = fakeTransport((req) => {
    const url = new URL(req.url);
    if (url.host === "auth.example.org") return fakeResponse(200, JSON.stringify({ token: "t" }));
    if (req.headers?.authorization === "Bearer t") return fakeResponse(200);
    return fakeResponse(401, "", { "www-authenticate": 'Bearer realm="https://auth.example.org/token"' });
  });
  const keychain = staticKeychain({ username: "u", password: "secret-pw" });
  const untrusted = withAuth(inner, { registry: "reg.io", keychain });
  await assert.rejects(untrusted({ method: "GET", url: "https://reg.io/v2/a/manifests/b" }), {
    code: "UNTRUSTED_REALM",
  });
  assert.equal(inner.requests.length, 1, "nothing sent to the realm");
  const trusted = withAuth(inner, { registry: "reg.io", keychain, trustedRealms: ["auth.example.org"] });
  const res = await trusted({ method: "GET", url: "https://reg.io/v2/a/manifests/b" });
  assert.equal(res.status, 200);
  assert.equal(
    inner.requests[2]!.headers?.authorization,
    "Basic " + Buffer.from("u:secret-pw").toString("base64"),
  );
});

test("Basic challenge over plain http: no credentials unless the registry is configured insecure", async () => {
  const registry = await startFakeServer((_req, res) => {
    res.writeHead(401, { "www-authenticate": 'Basic realm="Registry Realm"' });
    res.end();
  });
  try {
    const transport = withAuth(base, {
      registry: registry.host,
      keychain: staticKeychain({ username: "$oauthtoken", password: API_KEY }),
    });
    await assert.rejects(get(transport, `${registry.url}/v2/a/manifests/1`), (err: SregistryError) => {
      assert.equal(err.code, "UNTRUSTED_REALM");
      assert.match(err.message, /over plain http/);
      return true;
    });
    assert.equal(registry.requests.length, 1);
    assert.equal(registry.requests[0]!.headers.authorization, undefined);
  } finally {
    await registry.close();
  }
});

test("onCredentialsAccepted: once after the realm issued a token for the key; never for a refused key", async () => {
  for (const [status, expected] of [
    [200, 1],
    [401, 0],
  ] as const) {
    const realm = await startRealm({
      answer: (_r, n) => (status === 200 ? { status, json: { token: `tok-${n}` } } : { status }),
    });
    const registry = await startBearerRegistry(`${realm.server.url}/t`, () => realm.issued);
    const accepted: Credentials[] = [];
    const creds = { username: "$oauthtoken", password: API_KEY };
    try {
      const transport = withAuth(base, {
        registry: registry.host,
        keychain: staticKeychain(creds),
        insecure: true,
        onCredentialsAccepted: (c) => accepted.push(c),
      });
      const outcome = get(transport, `${registry.url}/v2/nvidia/x/manifests/1`);
      if (status === 200) {
        assert.equal(await outcome, 200);
        assert.equal(await get(transport, `${registry.url}/v2/nvidia/y/manifests/1`), 200);
      } else await assert.rejects(outcome, { code: "AUTH" });
      assert.equal(accepted.length, expected);
      if (expected) assert.equal(accepted[0], creds);
    } finally {
      await Promise.all([realm.server.close(), registry.close()]);
    }
  }
});

test("a registry 401 after authenticating names where the credentials came from", async () => {
  const realm = await startRealm();
  const registry = await startBearerRegistry(`${realm.server.url}/t`, () => []);
  try {
    const transport = withAuth(base, {
      registry: registry.host,
      keychain: staticKeychain({
        username: "$oauthtoken",
        password: API_KEY,
        source: "the secrets file /h/.sregistry",
      }),
      insecure: true,
    });
    const res = await transport({ method: "GET", url: `${registry.url}/v2/nvidia/x/manifests/1` });
    assert.equal(res.status, 401);
    const err = await responseError(res, {
      registry: registry.host,
      repo: "nvidia/x",
      reference: "1",
      what: "manifest",
    });
    assert.match(
      err.message,
      /refused access to nvidia\/x:1 with the credentials from the secrets file \/h\/\.sregistry/,
    );
    assert.ok(!err.message.includes("SREGISTRY_NVIDIA_TOKEN"));
    const anonymous = withAuth(base, { registry: registry.host });
    const anonRes = await anonymous({ method: "GET", url: `${registry.url}/v2/nvidia/x/manifests/1` });
    const anonErr = await responseError(anonRes, {
      registry: registry.host,
      repo: "nvidia/x",
      reference: "1",
      what: "manifest",
    });
    assert.match(anonErr.message, /refused anonymous access/);
  } finally {
    await Promise.all([realm.server.close(), registry.close()]);
  }
});
