import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { type AddressInfo, type LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { createHttpTransport, type HttpRequest, type Transport } from "../registry/http.js";
import { SregistryError } from "../util/errors.js";
import {
  createForeignTransport,
  guardedLookup,
  openForeignBlob,
  withUrlFailure,
  type Resolver,
} from "./foreign-urls.js";

const BLOB = "0123456789abcdef";

/** A blob server on 127.0.0.1 that honours Range and redirects `/hop/<n>` to `/hop/<n-1>`, `/hop/0` to `/blob`. */
async function startServer(): Promise<{ server: Server; base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push(path);
    const to = /^\/redirect\?to=(.*)$/.exec(path);
    if (to) return void res.writeHead(302, { location: decodeURIComponent(to[1]!) }).end();
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

/** A resolver from a fixed table (unknown names fail like NXDOMAIN), recording the names asked. */
function fakeResolver(table: Record<string, string[]>): { resolve: Resolver; asked: string[] } {
  const asked: string[] = [];
  const resolve: Resolver = (host) => {
    asked.push(host);
    const answer = table[host];
    return answer ? Promise.resolve(answer) : Promise.reject(new Error(`getaddrinfo ENOTFOUND ${host}`));
  };
  return { resolve, asked };
}

/**
 * The tests' connector guard: wraps a socket lookup and hands the socket only loopback addresses.
 * Any other address the inner lookup lets through is recorded in `leaked` and the connection fails
 * instead, so a broken check shows up as a test failure, never as a packet leaving the machine.
 */
function loopbackOnly(inner: LookupFunction): { lookup: LookupFunction; leaked: string[] } {
  const leaked: string[] = [];
  const lookup: LookupFunction = (host, options, callback) =>
    inner(host, options, (err, address, family) => {
      if (err) return callback(err, "");
      const list = typeof address === "string" ? [address] : address.map((a) => a.address);
      const outside = list.filter((a) => !/^(127\.|::1$|::ffff:127\.)/.test(a));
      if (outside.length > 0) {
        leaked.push(...outside);
        return callback(
          Object.assign(new Error(`test guard: not connecting to ${outside.join(", ")}`), { code: "ETEST" }),
          "",
        );
      }
      callback(null, address, family);
    });
  return { lookup, leaked };
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
  let port: number;
  let requests: string[];
  before(async () => {
    ({ server, base, requests } = await startServer());
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  /** The real socket path (guardedLookup inside an http transport), behind the loopback-only guard. */
  function guardedTransport(table: Record<string, string[]>, allowLoopbackForTests = false) {
    const { resolve, asked } = fakeResolver(table);
    const { lookup, leaked } = loopbackOnly(guardedLookup({ resolve, allowLoopbackForTests }));
    return { transport: createHttpTransport({ lookup }), asked, leaked };
  }

  it("refuses a loopback IP literal by default, without sending it a request", async () => {
    const before = requests.length;
    const err = await refusal(openForeignBlob([`${base}/blob`], { offset: 0, insecure: true }));
    assert.match(err.message, /127\.0\.0\.1.*127\.0\.0\.1 is not a global unicast address: loopback/);
    assert.equal(requests.length, before);
  });

  it("refuses other spellings of a loopback address (the URL parser canonicalises them)", async () => {
    const before = requests.length;
    for (const host of ["0x7f.1", "2130706433", "0177.0.0.1", "[::ffff:7f00:1]", "[::127.0.0.1]"]) {
      const err = await refusal(
        openForeignBlob([`http://${host}:${port}/blob`], { offset: 0, insecure: true }),
      );
      assert.match(err.message, /not a global unicast address: (loopback|IPv4-mapped|IPv4-compatible)/);
    }
    assert.equal(requests.length, before);
  });

  it("refuses, when the socket connects, a host name that resolves to loopback", async () => {
    // The production transport (createForeignTransport) with only DNS injected: a broken check
    // would reach the test server on 127.0.0.1, so nothing can leave the machine either way.
    const before = requests.length;
    const { resolve, asked } = fakeResolver({ "cdn.test": ["127.0.0.1"] });
    const transport = createForeignTransport({ resolve });
    try {
      const err = await refusal(
        openForeignBlob([`http://cdn.test:${port}/blob`], { offset: 0, insecure: true, transport }),
      );
      assert.match(err.message, /cdn\.test resolves to 127\.0\.0\.1, not a global unicast address: loopback/);
      assert.deepEqual(asked, ["cdn.test"]);
      assert.equal(requests.length, before, "no request reached the server");
    } finally {
      transport.close();
    }
  });

  it("connects through the vetted lookup when the test override allows loopback, honouring Range", async () => {
    // cdn.test exists only in the injected resolver: a served blob proves the socket used it.
    const { resolve, asked } = fakeResolver({ "cdn.test": ["127.0.0.1"] });
    const options = { insecure: true, resolve, allowLoopbackForTests: true };
    const whole = await openForeignBlob([`http://cdn.test:${port}/blob`], { ...options, offset: 0 });
    assert.equal(whole.offset, 0);
    assert.equal(whole.url, `http://cdn.test:${port}/blob`);
    assert.equal(await text(whole.body), BLOB);
    const tail = await openForeignBlob([`http://cdn.test:${port}/blob`], { ...options, offset: 10 });
    assert.equal(tail.offset, 10);
    assert.equal(await text(tail.body), BLOB.slice(10));
    assert.ok(asked.length >= 1 && asked.every((host) => host === "cdn.test"), asked.join());
  });

  for (const address of [
    "100.64.0.1",
    "198.18.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "224.0.0.1",
    "255.255.255.255",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:a00:1::1",
    "::10.0.0.1",
    "ff02::1",
    "fd00::1",
  ]) {
    it(`refuses a host resolving to ${address} before connecting`, async () => {
      const { transport, asked, leaked } = guardedTransport({ "metadata.test": ["93.184.216.34", address] });
      try {
        const err = await refusal(
          openForeignBlob(["https://metadata.test/latest/meta-data"], {
            offset: 0,
            insecure: false,
            transport,
          }),
        );
        assert.ok(
          err.message.includes(`metadata.test resolves to ${address}, not a global unicast`),
          err.message,
        );
        assert.deepEqual(asked, ["metadata.test"]);
        assert.deepEqual(leaked, [], "the socket was never given an address");
      } finally {
        transport.close();
      }
    });
  }

  it("reports offset 0 when the server ignores Range", async () => {
    const { transport } = fakeTransport(() => ({ status: 200 }));
    const opened = await openForeignBlob(["https://cdn.test/blob"], {
      offset: 5,
      insecure: false,
      transport,
    });
    assert.equal(opened.offset, 0);
  });

  it("refuses http:// unless the registry is insecure", async () => {
    const before = requests.length;
    const err = await refusal(
      openForeignBlob([`${base}/blob`], { offset: 0, insecure: false, allowLoopbackForTests: true }),
    );
    assert.match(err.message, /scheme http: not allowed/);
    assert.equal(requests.length, before);
  });

  it("refuses file: and ftp: URLs", async () => {
    const { transport, seen } = fakeTransport(() => ({ status: 200 }));
    for (const url of ["file:///etc/passwd", "ftp://cdn.test/blob"]) {
      const options = { offset: 0, insecure: true, allowLoopbackForTests: true, transport };
      const err = await refusal(openForeignBlob([url], options));
      assert.match(err.message, /scheme (file|ftp): not allowed/);
    }
    assert.deepEqual(seen, []);
  });

  it("refuses a redirect to a host resolving to a non-global address, at connect time", async () => {
    const before = requests.length;
    const target = encodeURIComponent(`http://internal.test:${port}/blob`);
    const { transport, asked, leaked } = guardedTransport(
      { "cdn.test": ["127.0.0.1"], "internal.test": ["100.64.0.1"] },
      true,
    );
    try {
      const err = await refusal(
        openForeignBlob([`http://cdn.test:${port}/redirect?to=${target}`], {
          offset: 0,
          insecure: true,
          allowLoopbackForTests: true,
          transport,
        }),
      );
      assert.match(
        err.message,
        /internal\.test resolves to 100\.64\.0\.1, not a global unicast address: carrier-grade NAT/,
      );
      assert.deepEqual(asked, ["cdn.test", "internal.test"]);
      assert.deepEqual(leaked, []);
      assert.equal(requests.length, before + 1, "only the redirecting request was sent");
    } finally {
      transport.close();
    }
  });

  it("refuses a redirect to a non-global IP literal before following it", async () => {
    const { transport, seen } = fakeTransport((url) =>
      url.hostname === "cdn.test"
        ? { status: 302, headers: { location: "https://[64:ff9b::a9fe:a9fe]/latest/meta-data" } }
        : { status: 200 },
    );
    const err = await refusal(
      openForeignBlob(["https://cdn.test/blob"], { offset: 0, insecure: false, transport }),
    );
    assert.match(err.message, /NAT64 form of 169\.254\.169\.254: link-local/);
    assert.deepEqual(seen, ["https://cdn.test/blob"]);
  });

  it("refuses a redirect from https to http, even for an insecure registry", async () => {
    const { transport, seen } = fakeTransport((url) =>
      url.protocol === "https:"
        ? { status: 301, headers: { location: "http://cdn.test/blob" } }
        : { status: 200 },
    );
    const err = await refusal(
      openForeignBlob(["https://cdn.test/blob"], {
        offset: 0,
        insecure: true,
        allowLoopbackForTests: true,
        transport,
      }),
    );
    assert.match(err.message, /redirect from https to http/);
    assert.equal(seen.length, 1);
  });

  it("follows up to 5 redirects and no more", async () => {
    const options = { offset: 0, insecure: true, allowLoopbackForTests: true };
    const opened = await openForeignBlob([`${base}/hop/4`], options);
    assert.equal(await text(opened.body), BLOB);
    const err = await refusal(openForeignBlob([`${base}/hop/5`], options));
    assert.match(err.message, /more than 5 redirects/);
  });

  it("refuses a connection whose peer is not a global address, whatever DNS said", async () => {
    // A transport that lands on 127.0.0.1 whatever the URL says (as a DNS answer changed behind our
    // back would): the peer check refuses the response before any body byte is used.
    const real = createHttpTransport();
    const transport: Transport = (req) =>
      real({ ...req, url: String(req.url).replace("cdn.test", base.slice(7)) });
    try {
      const err = await refusal(
        openForeignBlob(["http://cdn.test/blob"], { offset: 0, insecure: true, transport }),
      );
      assert.match(err.message, /connected to 127\.0\.0\.1, not a global unicast address: loopback/);
    } finally {
      real.close();
    }
  });

  it("tries the URLs in order and reports the one that served", async () => {
    const options = { offset: 0, insecure: true, allowLoopbackForTests: true };
    const opened = await openForeignBlob([`${base}/missing`, `${base}/blob`], options);
    assert.equal(opened.url, `${base}/blob`);
    assert.equal(await text(opened.body), BLOB);
  });

  it("lists every failure, without query strings or credentials", async () => {
    const err = await refusal(
      openForeignBlob([`${base}/missing?X-Amz-Signature=topsecret`, "https://user:hunter2@cdn.test/blob"], {
        offset: 0,
        insecure: true,
        allowLoopbackForTests: true,
      }),
    );
    assert.match(err.message, /\/missing: HTTP 404; https:\/\/cdn\.test\/blob: credentials in the URL/);
    assert.doesNotMatch(err.message, /topsecret|hunter2|user/);
  });

  it("stops at an abort instead of trying the next URL", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(
      openForeignBlob([`${base}/blob`], {
        offset: 0,
        insecure: true,
        allowLoopbackForTests: true,
        signal: controller.signal,
      }),
      /stop/,
    );
  });
});

describe("withUrlFailure", () => {
  const urls = new SregistryError("foreign layer URL refused or failed: https://cdn.test/l: HTTP 404", {
    code: "FOREIGN_URL",
  });

  it("names both failures and keeps a registry verdict's code", () => {
    const registry = new SregistryError("blob unknown: reg.example/r@sha256:00", { code: "NOT_FOUND" });
    const err = withUrlFailure(registry, urls);
    assert.ok(err instanceof SregistryError);
    assert.equal(err.code, "NOT_FOUND");
    assert.equal(
      err.message,
      "blob unknown: reg.example/r@sha256:00 (asked after the layer's foreign URLs failed: https://cdn.test/l: HTTP 404)",
    );
  });

  it("keeps a network error a plain Error with its code, so the download still retries it", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const err = withUrlFailure(reset, urls) as NodeJS.ErrnoException;
    assert.ok(!(err instanceof SregistryError));
    assert.equal(err.code, "ECONNRESET");
    assert.match(err.message, /^read ECONNRESET \(asked after .*https:\/\/cdn\.test\/l: HTTP 404\)$/);
  });

  it("passes an abort through untouched", () => {
    const abort = new DOMException("stopped", "AbortError");
    assert.equal(withUrlFailure(abort, urls), abort);
  });
});
