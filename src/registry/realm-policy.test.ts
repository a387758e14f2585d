import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRealmForCredentials, isAllowedRealmHost, registrableDomain } from "./realm-policy.js";

const allowed = (realm: string, registry: string, trusted: string[] = []): boolean =>
  isAllowedRealmHost(new URL(realm), registry, trusted);

test("registrableDomain: public suffix list with its private section; none for IPs and single labels", () => {
  assert.equal(registrableDomain("registry-1.docker.io"), "docker.io");
  assert.equal(registrableDomain("auth.docker.io"), "docker.io");
  assert.equal(registrableDomain("nvcr.io"), "nvcr.io");
  assert.equal(registrableDomain("authn.nvidia.com"), "nvidia.com");
  assert.equal(registrableDomain("a.b.example.co.uk"), "example.co.uk");
  assert.equal(
    registrableDomain("alice.github.io"),
    "alice.github.io",
    "private suffix: each user is a domain",
  );
  assert.equal(registrableDomain("127.0.0.1"), undefined);
  assert.equal(registrableDomain("localhost"), undefined);
});

test("realm hosts that may receive credentials", () => {
  assert.ok(allowed("https://auth.docker.io/token", "registry-1.docker.io"));
  assert.ok(allowed("https://nvcr.io/proxy_auth", "nvcr.io"));
  assert.ok(allowed("https://authn.nvidia.com/token", "nvcr.io"), "known NGC pair");
  assert.ok(allowed("https://gitlab.com/jwt/auth", "registry.gitlab.com"));
  assert.ok(allowed("https://127.0.0.1:9000/t", "127.0.0.1"), "same host, other port");
  assert.ok(allowed("https://auth.example.org/t", "reg.io", ["auth.example.org"]), "trusted host");
  assert.ok(
    allowed("https://auth.example.org:8443/t", "reg.io", ["auth.example.org:8443"]),
    "trusted host:port",
  );
});

test("realm hosts that may not receive credentials", () => {
  assert.ok(!allowed("https://evil.example/t", "nvcr.io"));
  assert.ok(!allowed("https://nvidia.com.evil.example/t", "nvcr.io"));
  assert.ok(!allowed("https://authn.nvidia.com/token", "registry-1.docker.io"), "the NGC pair is NGC's only");
  assert.ok(!allowed("https://bob.github.io/t", "alice.github.io"), "different private-suffix domains");
  assert.ok(!allowed("https://127.0.0.2/t", "127.0.0.1"), "another IP address");
  assert.ok(
    !allowed("https://auth.example.org:9/t", "reg.io", ["auth.example.org:8443"]),
    "trusted on another port only",
  );
  assert.ok(!allowed("https://example.org/t", "reg.io", ["auth.example.org"]));
});

test("checkRealmForCredentials: https required; http only for an insecure registry's own host", () => {
  const ok = (realm: string, policy: Parameters<typeof checkRealmForCredentials>[1]) =>
    checkRealmForCredentials(new URL(realm), policy);
  ok("https://auth.docker.io/token", { registry: "registry-1.docker.io" });
  ok("http://127.0.0.1:5001/t", { registry: "127.0.0.1:5000", insecure: true });
  assert.throws(() => ok("http://127.0.0.1:5001/t", { registry: "127.0.0.1:5000" }), {
    code: "UNTRUSTED_REALM",
    message: /plain-http token realm 127\.0\.0\.1:5001/,
  });
  assert.throws(() => ok("http://127.0.0.2:5001/t", { registry: "127.0.0.1:5000", insecure: true }), {
    code: "UNTRUSTED_REALM",
  });
  assert.throws(
    () => ok("http://auth.example.org/t", { registry: "reg.io", trustedRealms: ["auth.example.org"] }),
    { code: "UNTRUSTED_REALM" },
    "trust never allows plain http",
  );
  assert.throws(
    () => ok("https://evil.example:8443/t", { registry: "nvcr.io" }),
    (err: Error) => {
      assert.equal(
        err.message,
        "refusing to send credentials for nvcr.io to the token realm evil.example:8443, which is not on " +
          "the registry's domain; if you trust it, set SREGISTRY_TRUSTED_REALMS=evil.example:8443",
      );
      return true;
    },
  );
});
