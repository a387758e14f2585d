import { test } from "node:test";
import assert from "node:assert/strict";
import { createHttpTransport } from "./http.js";
import { readBody } from "./body.js";
import { withRedirects } from "./redirect.js";
import { withAuth } from "./auth.js";
import { staticKeychain } from "./credentials.js";
import { fakeResponse, fakeTransport, startFakeServer } from "./fake-server.testing.js";

test("a redirect to another host drops Authorization; the target never sees it", async () => {
  const cdn = await startFakeServer((_req, res) => res.end("blob-bytes"));
  const registry = await startFakeServer((_req, res) => {
    res.writeHead(307, { location: `${cdn.url}/bucket/blob?sig=1` });
    res.end();
  });
  const http = createHttpTransport();
  try {
    const res = await withRedirects(http)({
      method: "GET",
      url: `${registry.url}/v2/r/blobs/sha256:x`,
      headers: { Authorization: "Bearer secret-token" },
    });
    assert.equal(res.status, 200);
    assert.equal((await readBody(res.body, 100, () => new Error())).toString(), "blob-bytes");
    assert.equal(res.url, `${cdn.url}/bucket/blob?sig=1`);
    assert.equal(registry.requests[0]?.headers.authorization, "Bearer secret-token");
    assert.equal(cdn.requests.length, 1);
    assert.equal(cdn.requests[0]?.headers.authorization, undefined);
  } finally {
    http.close();
    await Promise.all([cdn.close(), registry.close()]);
  }
});

test("with the auth wrapper under redirects, Basic credentials reach only the registry", async () => {
  const cdn = await startFakeServer((_req, res) => res.end("x"));
  const registry = await startFakeServer((req, res) => {
    if (!req.headers.authorization) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="r"' });
      return res.end();
    }
    res.writeHead(302, { location: `${cdn.url}/b` });
    res.end();
  });
  const http = createHttpTransport();
  const keychain = staticKeychain({ username: "u", password: "p4ssw0rd" });
  try {
    const transport = withRedirects(withAuth(http, { registry: registry.host, keychain, insecure: true }));
    const res = await transport({ method: "GET", url: `${registry.url}/v2/r/blobs/sha256:x` });
    res.body.resume();
    assert.equal(res.status, 200);
    assert.equal(
      registry.requests[1]?.headers.authorization,
      "Basic " + Buffer.from("u:p4ssw0rd").toString("base64"),
    );
    assert.equal(cdn.requests[0]?.headers.authorization, undefined);
  } finally {
    http.close();
    await Promise.all([cdn.close(), registry.close()]);
  }
});

test("same-origin redirect keeps Authorization and resolves a relative Location", async () => {
  const inner = fakeTransport((req, i) =>
    i === 0
      ? fakeResponse(308, "", { location: "../other/path" })
      : fakeResponse(200, "", {}, String(req.url)),
  );
  const res = await withRedirects(inner)({
    method: "GET",
    url: "https://reg.io/v2/a/b",
    headers: { authorization: "Bearer t" },
  });
  assert.equal(res.url, "https://reg.io/v2/other/path");
  assert.equal(inner.requests[1]?.headers?.authorization, "Bearer t");
});

test("https to http downgrade is refused", async () => {
  const inner = fakeTransport(() => fakeResponse(302, "", { location: "http://cdn.example/blob" }));
  await assert.rejects(withRedirects(inner)({ method: "GET", url: "https://reg.io/v2/x" }), /https to http/);
  assert.equal(inner.requests.length, 1);
});

test("more than 5 redirects is an error", async () => {
  const inner = fakeTransport((_req, i) => fakeResponse(302, "", { location: `/hop${i}` }));
  await assert.rejects(
    withRedirects(inner)({ method: "GET", url: "https://reg.io/start" }),
    /too many redirects/,
  );
  assert.equal(inner.requests.length, 6);
});

test("303 turns a POST into a body-less GET", async () => {
  const inner = fakeTransport((_req, i) =>
    i === 0 ? fakeResponse(303, "", { location: "/done" }) : fakeResponse(200),
  );
  await withRedirects(inner)({ method: "POST", url: "https://reg.io/x", body: Buffer.from("a") });
  assert.equal(inner.requests[1]?.method, "GET");
  assert.equal(inner.requests[1]?.body, undefined);
});

test("a non-http Location is refused", async () => {
  const inner = fakeTransport(() => fakeResponse(301, "", { location: "file:///etc/passwd" }));
  await assert.rejects(withRedirects(inner)({ method: "GET", url: "http://reg.io/x" }), /file: URL/);
});
