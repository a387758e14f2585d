import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { RegistryClient } from "../registry/client.js";
import type { HttpRequest } from "../registry/http.js";
import { fakeResponse, fakeTransport } from "../registry/fake-server.testing.js";
import { SregistryError } from "../util/errors.js";
import { pushBlob, pushManifest } from "./upload.js";

const data = Buffer.from("0123456789abcdefghij"); // 20 bytes
const digest = "sha256:" + createHash("sha256").update(data).digest("hex");
const blob = { digest, size: data.length, read: async (s: number, e: number) => data.subarray(s, e) };

function client(answer: (req: HttpRequest, index: number) => ReturnType<typeof fakeResponse>) {
  const transport = fakeTransport(answer);
  const c = new RegistryClient({ registry: "reg.example", transport, retry: { attempts: 1 } });
  return { c, requests: transport.requests };
}

function summary(req: HttpRequest): string {
  const url = new URL(String(req.url));
  return `${req.method} ${url.pathname}${url.search} ${req.headers?.["content-range"] ?? ""}`.trim();
}

test("chunked: relative Locations are followed, Content-Range per chunk, closing PUT with the digest", async () => {
  const { c, requests } = client((req, i) => {
    if (req.method === "HEAD") return fakeResponse(404);
    if (req.method === "POST")
      return fakeResponse(202, "", { location: "/v2/site/x/blobs/uploads/u1?_state=s0" });
    if (req.method === "PATCH")
      return fakeResponse(202, "", { location: `/v2/site/x/blobs/uploads/u1?_state=s${i}` });
    return fakeResponse(201);
  });
  assert.equal(await pushBlob(c, "site/x", blob, { chunkSize: 8 }), true);
  assert.deepEqual(requests.map(summary), [
    `HEAD /v2/site/x/blobs/${digest}`,
    "POST /v2/site/x/blobs/uploads/",
    "PATCH /v2/site/x/blobs/uploads/u1?_state=s0 0-7",
    "PATCH /v2/site/x/blobs/uploads/u1?_state=s2 8-15",
    "PATCH /v2/site/x/blobs/uploads/u1?_state=s3 16-19",
    `PUT /v2/site/x/blobs/uploads/u1?_state=s4&digest=${encodeURIComponent(digest)}`,
  ]);
  assert.equal(String(requests[0]!.url).startsWith("https://reg.example/"), true);
  assert.deepEqual(
    requests.slice(2, 5).map((r) => r.body?.toString()),
    ["01234567", "89abcdef", "ghij"],
  );
  c.close();
});

test("monolithic: a blob no larger than a chunk goes up in the closing PUT; an existing blob is skipped", async () => {
  const { c, requests } = client((req) => {
    if (req.method === "HEAD") return fakeResponse(404);
    if (req.method === "POST") return fakeResponse(202, "", { location: "https://reg.example/up/1" });
    return fakeResponse(201);
  });
  await pushBlob(c, "site/x", blob);
  assert.equal(requests[2]!.method, "PUT");
  assert.equal(requests[2]!.body?.toString(), data.toString());
  const existing = client(() => fakeResponse(200));
  assert.equal(await pushBlob(existing.c, "site/x", blob), false);
  assert.equal(existing.requests.length, 1);
  c.close();
  existing.c.close();
});

test("401/403 on a write is a FORBIDDEN error; other failures name the step, never the body's junk", async () => {
  const denied = client((req) => (req.method === "HEAD" ? fakeResponse(404) : fakeResponse(403)));
  await assert.rejects(
    pushBlob(denied.c, "site/x", blob),
    (err: unknown) =>
      err instanceof SregistryError &&
      err.code === "FORBIDDEN" &&
      err.message.startsWith("reg.example refused to let these credentials push to site/x (HTTP 403"),
  );
  const junk = JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_INVALID" }, { code: "\u001b[31mEVIL" }] });
  const failing = client((req) => {
    if (req.method === "HEAD") return fakeResponse(404);
    if (req.method === "POST") return fakeResponse(202, "", { location: "/up/1" });
    return fakeResponse(400, junk);
  });
  await assert.rejects(pushBlob(failing.c, "site/x", blob, { chunkSize: 8 }), (err: unknown) => {
    assert.ok(err instanceof SregistryError);
    assert.equal(err.code, "PUSH");
    assert.match(err.message, /^push failed while uploading bytes 0-7: .*HTTP 400.*\(BLOB_UPLOAD_INVALID\)$/);
    assert.ok(!err.message.includes("\u001b") && !err.message.includes("EVIL"));
    return true;
  });
  const noLocation = client((req) => (req.method === "HEAD" ? fakeResponse(404) : fakeResponse(202)));
  await assert.rejects(
    pushBlob(noLocation.c, "site/x", blob),
    /sent no upload location while starting the upload/,
  );
  for (const x of [denied, failing, noLocation]) x.c.close();
});

test("pushManifest: PUT with the media type; the registry's digest is returned", async () => {
  const { c, requests } = client(() =>
    fakeResponse(201, "", { "docker-content-digest": "sha256:" + "a".repeat(64) }),
  );
  const got = await pushManifest(
    c,
    "site/x",
    "1.0",
    Buffer.from("{}"),
    "application/vnd.oci.image.manifest.v1+json",
  );
  assert.equal(got, "sha256:" + "a".repeat(64));
  assert.equal(summary(requests[0]!), "PUT /v2/site/x/manifests/1.0");
  assert.equal(requests[0]!.headers?.["content-type"], "application/vnd.oci.image.manifest.v1+json");
  c.close();
});

test("a chunk sent twice (its answer lost) is recovered from the session's Range; no progress is an error", async () => {
  const { c, requests } = client((req, i) => {
    if (req.method === "HEAD") return fakeResponse(404);
    if (req.method === "POST") return fakeResponse(202, "", { location: "/up/s0" });
    // The second PATCH (bytes 8-15) is answered 416: the registry already holds 0-15.
    if (req.method === "PATCH" && i === 3) return fakeResponse(416);
    if (req.method === "GET") return fakeResponse(204, "", { location: "/up/after-status", range: "0-15" });
    if (req.method === "PATCH") return fakeResponse(202, "", { location: `/up/s${i}` });
    return fakeResponse(201);
  });
  await pushBlob(c, "site/x", blob, { chunkSize: 8 });
  assert.deepEqual(requests.map(summary).slice(2), [
    "PATCH /up/s0 0-7",
    "PATCH /up/s2 8-15",
    "GET /up/s2",
    "PATCH /up/after-status 16-19",
    `PUT /up/s5?digest=${encodeURIComponent(digest)}`,
  ]);
  c.close();
  const stuck = client((req) => {
    if (req.method === "HEAD") return fakeResponse(404);
    if (req.method === "POST") return fakeResponse(202, "", { location: "/up/s0" });
    if (req.method === "PATCH") return fakeResponse(416);
    return fakeResponse(204, "", { location: "/up/s0" }); // no Range: it holds nothing
  });
  await assert.rejects(
    pushBlob(stuck.c, "site/x", blob, { chunkSize: 8 }),
    /rejected the upload to site\/x at byte 0 \(HTTP 416\)/,
  );
  stuck.c.close();
});
