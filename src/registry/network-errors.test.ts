import { test } from "node:test";
import assert from "node:assert/strict";
import { createHttpTransport } from "./http.js";
import {
  describeNetworkFailure,
  isCertificateFailure,
  isPlainHttpAnswer,
  networkError,
  withCertificateDetection,
  withPlainHttpDetection,
} from "./network-errors.js";
import { withRetry } from "./retry.js";
import { startFakeServer } from "./fake-server.testing.js";
import type { SregistryError } from "../util/errors.js";

test("a stalled response is reported as no response within N s, not 'unreachable'", async () => {
  const stalled = await startFakeServer(() => undefined); // reads the request, never answers
  const http = createHttpTransport({ idleTimeoutMs: 300 });
  try {
    await assert.rejects(
      withRetry(http, { attempts: 2, baseDelayMs: 1 })({
        method: "GET",
        url: `${stalled.url}/v2/a/manifests/1`,
      }),
      (err: SregistryError) => {
        assert.equal(err.code, "NETWORK");
        assert.equal(err.message, `no response from ${stalled.host} within 0.3 s (2 attempts)`);
        return true;
      },
    );
  } finally {
    http.close();
    await stalled.close();
  }
});

test("describeNetworkFailure: connect timeouts and other errors", () => {
  const connect = networkError("connect timeout after 30000 ms", "ETIMEDOUT", {
    phase: "connect",
    ms: 30_000,
  });
  assert.equal(describeNetworkFailure("nvcr.io", connect), "could not connect to nvcr.io within 30 s");
  const refused = networkError("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED");
  assert.equal(
    describeNetworkFailure("127.0.0.1:1", refused),
    "registry 127.0.0.1:1 unreachable: connect ECONNREFUSED 127.0.0.1:1",
  );
});

test("an https request answered in plain HTTP says so and how to allow it", async () => {
  const plain = await startFakeServer((_req, res) => res.end("plain"));
  const http = createHttpTransport();
  const hint = "set SREGISTRY_NVIDIA_NOHTTPS=yes or use --insecure";
  try {
    const raw = await http({ method: "GET", url: `https://${plain.host}/v2/` }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(isPlainHttpAnswer(raw), `raw error: ${String(raw)}`);
    await assert.rejects(
      withPlainHttpDetection(http, hint)({ method: "GET", url: `https://${plain.host}/v2/` }),
      (err: SregistryError) => {
        assert.equal(err.code, "PLAIN_HTTP");
        assert.equal(
          err.message,
          `the registry ${plain.host} answered plain HTTP to an https request; ${hint}`,
        );
        return true;
      },
    );
  } finally {
    http.close();
    await plain.close();
  }
  assert.equal(isPlainHttpAnswer(Object.assign(new Error("EPROTO other"), { code: "EPROTO" })), false);
});

test("a failed certificate check names the registry and the two ways out", async () => {
  const transport = withCertificateDetection(async () => {
    throw Object.assign(new Error("unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
  });
  await assert.rejects(
    transport({ method: "GET", url: "https://reg.example:5000/v2/" }),
    (err: SregistryError) => {
      assert.equal(err.code, "NETWORK");
      assert.equal(
        err.message,
        "the TLS certificate of reg.example:5000 could not be verified (unable to verify the first certificate); " +
          "trust its CA with NODE_EXTRA_CA_CERTS=<PEM file>, or set SREGISTRY_HTTPS_NOVERIFY=1 to skip verification",
      );
      return true;
    },
  );
  const mismatch = withCertificateDetection(async () => {
    throw Object.assign(new Error("Hostname/IP does not match certificate's altnames: \u001b[31m"), {
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });
  await assert.rejects(mismatch({ method: "GET", url: "https://127.0.0.2:1/v2/" }), (err: SregistryError) => {
    assert.match(err.message, /could not be verified \(it is not issued for 127\.0\.0\.2\)/);
    assert.doesNotMatch(err.message, /altnames/);
    assert.ok(!err.message.includes("\u001b"), "no control character from the certificate");
    return true;
  });
  assert.equal(isCertificateFailure(Object.assign(new Error("x"), { code: "ECONNRESET" })), false);
});
