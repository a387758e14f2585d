/**
 * Unit tests of the token front's pure helpers: challenge rewriting, scope guessing and scope parsing.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs harness/front-proxy
 * ```
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nvcrChallenge, scopeForPath } from "./front-proxy.js";
import { jwtExpiry, parseScopes } from "./token-issuer.js";

describe("nvcrChallenge", () => {
  it("drops service and error, keeps scope, points the realm at the front", () => {
    const registry =
      'Bearer realm="http://x/auth",service="registry",scope="repository:a/b:pull,push",error="invalid_token"';
    assert.equal(
      nvcrChallenge(registry, 4000),
      'Bearer realm="http://127.0.0.1:4000/proxy_auth",scope="repository:a/b:pull,push"',
    );
    assert.equal(
      nvcrChallenge('Bearer realm="r",service="s"', 1),
      'Bearer realm="http://127.0.0.1:1/proxy_auth"',
    );
    assert.equal(nvcrChallenge('Basic realm="x"', 1), 'Basic realm="x"');
  });
});

describe("scopeForPath", () => {
  it("maps methods and paths to the scope the registry would ask for", () => {
    assert.equal(scopeForPath("HEAD", "/v2/org/team/app/manifests/1"), "repository:org/team/app:pull");
    assert.equal(scopeForPath("POST", "/v2/app/blobs/uploads/"), "repository:app:pull,push");
    assert.equal(scopeForPath("DELETE", "/v2/app/manifests/sha256:ab"), "repository:app:delete");
    assert.equal(scopeForPath("GET", "/v2/_catalog"), "registry:catalog:*");
    assert.equal(scopeForPath("GET", "/v2/"), undefined);
  });
});

describe("parseScopes / jwtExpiry", () => {
  it("parses repeated and space-separated scopes", () => {
    assert.deepEqual(
      parseScopes(["repository:a/b:pull,push registry:catalog:*", "repository:c:pull", "junk"]),
      [
        { type: "repository", name: "a/b", actions: ["pull", "push"] },
        { type: "registry", name: "catalog", actions: ["*"] },
        { type: "repository", name: "c", actions: ["pull"] },
      ],
    );
  });

  it("reads exp from a JWT payload and tolerates garbage", () => {
    const payload = Buffer.from(JSON.stringify({ exp: 42 })).toString("base64url");
    assert.equal(jwtExpiry(`h.${payload}.s`), 42);
    assert.equal(jwtExpiry("not-a-jwt"), undefined);
    assert.equal(jwtExpiry("a.%%%.b"), undefined);
  });
});
