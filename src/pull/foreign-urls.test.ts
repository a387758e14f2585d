import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { createHttpTransport, type HttpRequest, type Transport } from "../registry/http.js";
import { SregistryError } from "../util/errors.js";
import { isBlockedAddress, openForeignBlob } from "./foreign-urls.js";

const BLOB = "0123456789abcdef";

/** A blob server on 127.0.0.1 that honours Range and redirects `/hop/<n>` to `/hop/<n-1>`, `/hop/0` to `/blob`. */
async function startServer(): Promise<{ server: Server; base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push(path);
    const hop = /^\/hop\/(\d+)$/.exec(path);
    if (hop) {
      const n = Number(hop[1]);
      res.writeHead(302, { location: n === 0 ? "/blob" : `/hop/${n - 1}` }).end();
      return;
    }
    if (path !== "/blob" && !path.startsWith("/blob?")) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      res.writeHead(206, { "content-range": `bytes ${start}-${BLOB.length - 1}/${BLOB.length}` });
      res.end(BLOB.slice(start));
    } else {
      res.writeHead(200).end(BLOB);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, requests };
}

/** A transport that records requests and answers from `reply`, never touching the network. */
function fakeTransport(reply: (url: URL) => { status: number; headers?: Record<string, string> }): {
  transport: Transport;
  seen: string[];
} {
  const seen: string[] = [];
  const transport: Transport = (req: HttpRequest) => {
    const url = new URL(req.url);
    seen.push(url.toString());
    const { status, headers = {} } = reply(url);
    return Promise.resolve({ status, headers, url: url.toString(), body: Readable.from([BLOB]) });
  };
  return { transport, seen };
}

async function refusal(promise: Promise<unknown>): Promise<SregistryError> {
  const err = await promise.then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SregistryError, String(err));
  assert.equal(err.code, "FOREIGN_URL");
  assert.doesNotMatch(err.message, /\n/);
  return err;
}

describe("openForeignBlob", () => {
  let server: Server;
  let base: string;
  let requests: string[];
  before(async () => ({ server, base, requests } = await startServer()));
  after(() => server.close());

  it("refuses a loopback server by default, without sending it a request", async () => {
    const before = requests.length;
    const err = await refusal(openForeignBlob([`${base}/blob`], { offset: 0, insecure: true }));
    assert.match(err.message, /127\.0\.0\.1.*non-public address 127\.0\.0\.1/);
    assert.equal(requests.length, before);
  });

  it("fetches from the server when private addresses are allowed, honouring Range", async () => {
    const whole = await openForeignBlob([`${base}/blob`], { offset: 0, insecure: true, allowPrivate: true });
    assert.equal(whole.offset, 0);
    assert.equal(whole.url, `${base}/blob`);
    assert.equal(await text(whole.body), BLOB);
    const tail = await openForeignBlob([`${base}/blob`], { offset: 10, insecure: true, allowPrivate: true });
    assert.equal(tail.offset, 10);
    assert.equal(await text(tail.body), BLOB.slice(10));
  });

  it("reports offset 0 when the server ignores Range", async () => {
    const { transport } = fakeTransport(() => ({ status: 200 }));
    const lookup = (): Promise<string[]> => Promise.resolve(["93.184.216.34"]);
    const opened = await openForeignBlob(["https://cdn.example/blob"], {
      offset: 5,
      insecure: false,
      lookup,
      transport,
    });
    assert.equal(opened.offset, 0);
  });

  for (const address of ["10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "fd00::1", "::"]) {
    it(`refuses a host resolving to ${address} without connecting`, async () => {
      const { transport, seen } = fakeTransport(() => ({ status: 200 }));
      const lookup = (): Promise<string[]> => Promise.resolve(["93.184.216.34", address]);
      const err = await refusal(
        openForeignBlob(["https://cdn.example/blob"], { offset: 0, insecure: false, lookup, transport }),
      );
      assert.ok(err.message.includes(address), err.message);
      assert.deepEqual(seen, []);
    });
  }

  it("refuses http:// unless the registry is insecure", async () => {
    const before = requests.length;
    const err = await refusal(
      openForeignBlob([`${base}/blob`], { offset: 0, insecure: false, allowPrivate: true }),
    );
    assert.match(err.message, /scheme http: not allowed/);
    assert.equal(requests.length, before);
  });

  it("refuses file: and ftp: URLs", async () => {
    const { transport, seen } = fakeTransport(() => ({ status: 200 }));
    for (const url of ["file:///etc/passwd", "ftp://cdn.example/blob"]) {
      const options = { offset: 0, insecure: true, allowPrivate: true, transport };
      const err = await refusal(openForeignBlob([url], options));
      assert.match(err.message, /scheme (file|ftp): not allowed/);
    }
    assert.deepEqual(seen, []);
  });

  it("refuses a redirect from a public host to a loopback one before following it", async () => {
    const { transport, seen } = fakeTransport((url) =>
      url.hostname === "cdn.example"
        ? { status: 302, headers: { location: "https://internal.example/latest/meta-data" } }
        : { status: 200 },
    );
    const lookup = (host: string): Promise<string[]> =>
      Promise.resolve(host === "cdn.example" ? ["93.184.216.34"] : ["127.0.0.1"]);
    const err = await refusal(
      openForeignBlob(["https://cdn.example/blob"], { offset: 0, insecure: false, lookup, transport }),
    );
    assert.match(err.message, /internal\.example.*non-public address 127\.0\.0\.1/);
    assert.deepEqual(seen, ["https://cdn.example/blob"]);
  });

  it("refuses a redirect from https to http, even for an insecure registry", async () => {
    const { transport, seen } = fakeTransport((url) =>
      url.protocol === "https:"
        ? { status: 301, headers: { location: "http://cdn.example/blob" } }
        : { status: 200 },
    );
    const err = await refusal(
      openForeignBlob(["https://cdn.example/blob"], {
        offset: 0,
        insecure: true,
        allowPrivate: true,
        transport,
      }),
    );
    assert.match(err.message, /redirect from https to http/);
    assert.equal(seen.length, 1);
  });

  it("follows up to 5 redirects and no more", async () => {
    const options = { offset: 0, insecure: true, allowPrivate: true };
    const opened = await openForeignBlob([`${base}/hop/4`], options);
    assert.equal(await text(opened.body), BLOB);
    const err = await refusal(openForeignBlob([`${base}/hop/5`], options));
    assert.match(err.message, /more than 5 redirects/);
  });

  it("refuses a connection that lands on a non-public address after a public DNS answer", async () => {
    // DNS said public, but the socket ended up on 127.0.0.1 (a rebinding attack): no body is used.
    const real = createHttpTransport();
    const transport: Transport = (req) =>
      real({ ...req, url: String(req.url).replace("cdn.example", base.slice(7)) });
    const lookup = (): Promise<string[]> => Promise.resolve(["93.184.216.34"]);
    try {
      const err = await refusal(
        openForeignBlob(["http://cdn.example/blob"], { offset: 0, insecure: true, lookup, transport }),
      );
      assert.match(err.message, /connected to a non-public address 127\.0\.0\.1/);
    } finally {
      real.close();
    }
  });

  it("tries the URLs in order and reports the one that served", async () => {
    const options = { offset: 0, insecure: true, allowPrivate: true };
    const opened = await openForeignBlob([`${base}/missing`, `${base}/blob`], options);
    assert.equal(opened.url, `${base}/blob`);
    assert.equal(await text(opened.body), BLOB);
  });

  it("lists every failure, without query strings or credentials", async () => {
    const err = await refusal(
      openForeignBlob(
        [`${base}/missing?X-Amz-Signature=topsecret`, "https://user:hunter2@cdn.example/blob"],
        { offset: 0, insecure: true, allowPrivate: true },
      ),
    );
    assert.match(err.message, /\/missing: HTTP 404; https:\/\/cdn\.example\/blob: credentials in the URL/);
    assert.doesNotMatch(err.message, /topsecret|hunter2|user/);
  });

  it("stops at an abort instead of trying the next URL", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(
      openForeignBlob([`${base}/blob`], {
        offset: 0,
        insecure: true,
        allowPrivate: true,
        signal: controller.signal,
      }),
      /stop/,
    );
  });
});

describe("isBlockedAddress", () => {
  it("blocks loopback, private, link-local, unspecified and mapped forms", () => {
    for (const address of [
      "127.0.0.1",
      "127.255.0.9",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "::1",
      "::",
      "fc00::1",
      "fdff::1",
      "fe80::1",
      "fe80::1%eth0",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "0:0:0:0:0:ffff:a9fe:a9fe",
      "::ffff:10.0.0.1",
      "not-an-address",
    ]) {
      assert.equal(isBlockedAddress(address), true, address);
    }
  });

  it("lets public addresses through", () => {
    for (const address of ["93.184.216.34", "172.32.0.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      assert.equal(isBlockedAddress(address), false, address);
    }
  });
});
