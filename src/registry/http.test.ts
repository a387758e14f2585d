import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHttpTransport, header, headerValues } from "./http.js";
import { readBody } from "./body.js";
import { startFakeServer } from "./fake-server.testing.js";

const transport = createHttpTransport({ idleTimeoutMs: 300, userAgent: "sregistry/test" });
after(() => transport.close());

test("GET streams the body, sends the user agent, keeps header lists", async () => {
  const server = await startFakeServer((_req, res) => {
    res.setHeader("link", ["<a>; rel=x", "<b>; rel=y"]);
    res.end("hello");
  });
  try {
    const res = await transport({ method: "GET", url: `${server.url}/v2/`, headers: { Accept: "x/y" } });
    assert.equal(res.status, 200);
    assert.equal((await readBody(res.body, 100, () => new Error("big"))).toString(), "hello");
    assert.equal(server.requests[0]?.headers["user-agent"], "sregistry/test");
    assert.equal(server.requests[0]?.headers.accept, "x/y");
    assert.equal(header(res, "Content-Length"), "5");
    // Node joins repeated headers other than set-cookie with ", ".
    assert.deepEqual(headerValues(res, "link"), ["<a>; rel=x, <b>; rel=y"]);
    assert.equal(res.url, `${server.url}/v2/`);
  } finally {
    await server.close();
  }
});

test("POST sends the body with its length", async () => {
  const server = await startFakeServer((_req, res) => res.end());
  try {
    const res = await transport({ method: "POST", url: server.url, body: Buffer.from("a=b") });
    res.body.resume();
    assert.equal(server.requests[0]?.body.toString(), "a=b");
    assert.equal(server.requests[0]?.headers["content-length"], "3");
  } finally {
    await server.close();
  }
});

test("the default user agent is sregistry/<version>", async () => {
  const server = await startFakeServer((_req, res) => res.end());
  const plain = createHttpTransport();
  try {
    (await plain({ method: "GET", url: server.url })).body.resume();
    assert.match(String(server.requests[0]?.headers["user-agent"]), /^sregistry\/\d+\.\d+\.\d+/);
  } finally {
    plain.close();
    await server.close();
  }
});

test("a server that never answers times out as ETIMEDOUT", async () => {
  const server = await startFakeServer(() => undefined);
  try {
    await assert.rejects(transport({ method: "GET", url: server.url }), { code: "ETIMEDOUT" });
  } finally {
    await server.close();
  }
});

test("a body that stalls mid-way errors with ETIMEDOUT", async () => {
  const server = await startFakeServer((_req, res) => {
    res.writeHead(200, { "content-length": "100" });
    res.write("partial");
  });
  try {
    const res = await transport({ method: "GET", url: server.url });
    await assert.rejects(
      readBody(res.body, 1000, () => new Error("big")),
      { code: "ETIMEDOUT" },
    );
  } finally {
    await server.close();
  }
});

test("connection refused surfaces ECONNREFUSED", async () => {
  const server = await startFakeServer(() => undefined);
  await server.close();
  await assert.rejects(transport({ method: "GET", url: server.url }), { code: "ECONNREFUSED" });
});

test("only http and https URLs are accepted", async () => {
  await assert.rejects(transport({ method: "GET", url: "file:///etc/passwd" }), /unsupported URL scheme/);
});
