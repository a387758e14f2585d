import { test } from "node:test";
import assert from "node:assert/strict";
import { SregistryError } from "../util/errors.js";
import { networkError } from "./http.js";
import { parseRetryAfter, withRetry, isRetryableError } from "./retry.js";
import { fakeResponse, fakeTransport, startFakeServer } from "./fake-server.testing.js";
import { createHttpTransport } from "./http.js";

function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

test("5xx then success: returns the success after backoff", async () => {
  const inner = fakeTransport((_req, i) => (i < 2 ? fakeResponse(503) : fakeResponse(200, "ok")));
  const { sleep, delays } = recordingSleep();
  const res = await withRetry(inner, { sleep, random: () => 0.5 })({ method: "GET", url: "http://r/v2/" });
  assert.equal(res.status, 200);
  assert.equal(inner.requests.length, 3);
  // BACKOFF: ceilings 500, 1000 ms; full jitter, random 0.5 → half of each ceiling
  assert.deepEqual(delays, [250, 500]);
});

test("429 honours Retry-After seconds, capped by maxRetryAfterMs", async () => {
  const inner = fakeTransport((_req, i) =>
    i === 0
      ? fakeResponse(429, "", { "retry-after": "7" })
      : i === 1
        ? fakeResponse(429, "", { "retry-after": "999" })
        : fakeResponse(200),
  );
  const { sleep, delays } = recordingSleep();
  const res = await withRetry(inner, { sleep, maxRetryAfterMs: 10_000 })({ method: "GET", url: "http://r/" });
  assert.equal(res.status, 200);
  assert.deepEqual(delays, [7000, 10_000]);
});

test("Retry-After as an HTTP date", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter("12", now), 12_000);
});

test("the last retryable status is returned after all attempts", async () => {
  const inner = fakeTransport(() => fakeResponse(502));
  const { sleep, delays } = recordingSleep();
  const res = await withRetry(inner, { sleep, attempts: 3 })({ method: "GET", url: "http://r/" });
  assert.equal(res.status, 502);
  assert.equal(inner.requests.length, 3);
  assert.equal(delays.length, 2);
});

test("404, 401 and 501 are not retried", async () => {
  for (const status of [404, 401, 501, 400]) {
    const inner = fakeTransport(() => fakeResponse(status));
    const { sleep } = recordingSleep();
    const res = await withRetry(inner, { sleep })({ method: "GET", url: "http://r/" });
    assert.equal(res.status, status);
    assert.equal(inner.requests.length, 1, `status ${status}`);
  }
});

test("network errors are retried, then reported as NETWORK naming the host", async () => {
  const inner = fakeTransport(() => {
    throw networkError("connect ECONNREFUSED 127.0.0.1:5000", "ECONNREFUSED");
  });
  const { sleep } = recordingSleep();
  await assert.rejects(
    withRetry(inner, { sleep })({ method: "GET", url: "http://127.0.0.1:5000/v2/" }),
    (err: SregistryError) => {
      assert.equal(err.code, "NETWORK");
      assert.match(err.message, /^registry 127\.0\.0\.1:5000 unreachable: connect ECONNREFUSED/);
      return true;
    },
  );
  assert.equal(inner.requests.length, 4);
});

test("a network error then success", async () => {
  const inner = fakeTransport((_req, i) => {
    if (i === 0) throw new Error("socket hang up");
    return fakeResponse(200);
  });
  const { sleep } = recordingSleep();
  assert.equal((await withRetry(inner, { sleep })({ method: "GET", url: "http://r/" })).status, 200);
});

test("non-network errors are not retried", async () => {
  const inner = fakeTransport(() => {
    throw new SregistryError("nope", { code: "AUTH" });
  });
  await assert.rejects(withRetry(inner)({ method: "GET", url: "http://r/" }), { code: "AUTH" });
  assert.equal(inner.requests.length, 1);
  assert.equal(isRetryableError(Object.assign(new Error("x"), { code: "ENOENT" })), false);
  assert.equal(isRetryableError(Object.assign(new Error("x"), { code: "EPIPE" })), true);
});

test("against a real socket: refused connection becomes NETWORK", async () => {
  const server = await startFakeServer(() => undefined);
  await server.close();
  const http = createHttpTransport();
  try {
    await assert.rejects(
      withRetry(http, { attempts: 2, baseDelayMs: 1 })({ method: "GET", url: `${server.url}/v2/` }),
      (err: SregistryError) =>
        err.code === "NETWORK" && err.message.includes(`registry ${server.host} unreachable`),
    );
  } finally {
    http.close();
  }
});

test("an aborted request is not retried", async () => {
  const controller = new AbortController();
  const inner = fakeTransport(() => {
    controller.abort();
    throw networkError("reset", "ECONNRESET");
  });
  await assert.rejects(withRetry(inner)({ method: "GET", url: "http://r/", signal: controller.signal }), {
    code: "ECONNRESET",
  });
  assert.equal(inner.requests.length, 1);
});
