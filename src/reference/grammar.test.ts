import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isDockerHub,
  isPathComponent,
  isRegistryHost,
  isTag,
  looksLikeRegistry,
  splitAt,
  splitTag,
  stripImageExtension,
  stripScheme,
} from "./grammar.js";

test("path components follow the distribution grammar", () => {
  for (const ok of ["a", "ubuntu", "a.b", "a_b", "a__b", "a-b", "a--b", "0"])
    assert.ok(isPathComponent(ok), ok);
  for (const bad of ["", "A", "a.", ".a", "a..b", "a___b", "-a", "a-", "a/b", "a b", "a._b"]) {
    assert.ok(!isPathComponent(bad), bad);
  }
});

test("tags: word char first, up to 128 characters", () => {
  assert.ok(isTag("18.01-py3"));
  assert.ok(isTag("a".repeat(128)));
  assert.ok(!isTag("a".repeat(129)));
  assert.ok(!isTag(".a"));
  assert.ok(!isTag("-a"));
  assert.ok(!isTag("a/b"));
});

test("registry hosts", () => {
  for (const ok of ["nvcr.io", "localhost", "127.0.0.1:5000", "[::1]:5000", "my-registry.example.org:443"]) {
    assert.ok(isRegistryHost(ok), ok);
  }
  for (const bad of ["", "-a.io", "a-.io", "a..io", "a.io:", "a.io:x", "a/b", "a_b.io"])
    assert.ok(!isRegistryHost(bad), bad);
  assert.ok(looksLikeRegistry("nvcr.io") && looksLikeRegistry("host:5000") && looksLikeRegistry("localhost"));
  assert.ok(!looksLikeRegistry("nvidia"));
  assert.ok(isDockerHub("Docker.io") && isDockerHub("registry-1.docker.io") && !isDockerHub("ghcr.io"));
  assert.ok(isDockerHub(" https://index.docker.io/v2/ ") && !isDockerHub("https://docker.io.example.com"));
});

test("splitting helpers", () => {
  assert.deepEqual(splitTag("a/b:c"), { path: "a/b", tag: "c" });
  assert.deepEqual(splitTag("host:5000/a/b"), { path: "host:5000/a/b", tag: undefined });
  assert.deepEqual(splitTag("host:5000/a/b:1"), { path: "host:5000/a/b", tag: "1" });
  assert.deepEqual(splitAt("a@b@c"), { rest: "a", suffix: "b@c" });
  assert.deepEqual(splitAt("a"), { rest: "a", suffix: undefined });
  assert.equal(stripScheme("docker://a"), "a");
  assert.equal(stripScheme("a"), "a");
  assert.equal(stripImageExtension("a.sif"), "a");
  assert.equal(stripImageExtension("a.sif.sif"), "a.sif");
  assert.equal(stripImageExtension("a.simg"), "a");
  assert.equal(stripImageExtension("a.img"), "a");
  assert.equal(stripImageExtension("a.imgx"), "a.imgx");
});
