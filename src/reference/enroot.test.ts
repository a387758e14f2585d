import assert from "node:assert/strict";
import { test } from "node:test";
import { SregistryError } from "../util/errors.js";
import { splitEnrootPrefix } from "./enroot.js";
import { formatReference, parseImageReference } from "./image-reference.js";

const docker = { registry: "index.docker.io", defaultCollection: "library" };
const nvidia = { registry: "nvcr.io", defaultCollection: "nvidia" };
const SHA = "sha256:" + "ab".repeat(32);

test("splitEnrootPrefix: REGISTRY#IMAGE, USER@REGISTRY#IMAGE, USER@IMAGE", () => {
  assert.deepEqual(splitEnrootPrefix("nvcr.io#nvidia/pytorch:24.01-py3"), {
    registry: "nvcr.io",
    image: "nvidia/pytorch:24.01-py3",
  });
  assert.deepEqual(splitEnrootPrefix("$oauthtoken@nvcr.io#nvidia/pytorch"), {
    user: "$oauthtoken",
    registry: "nvcr.io",
    image: "nvidia/pytorch",
  });
  assert.deepEqual(splitEnrootPrefix("alice@ubuntu:22.04"), { user: "alice", image: "ubuntu:22.04" });
  assert.deepEqual(splitEnrootPrefix("@nvcr.io#x"), { registry: "nvcr.io", image: "x" });
});

test("splitEnrootPrefix: digests and plain references are left alone", () => {
  for (const text of [
    `ubuntu@${SHA}`,
    `ubuntu:22.04@${SHA}`,
    `library/ubuntu@${SHA}`,
    "ubuntu@md5:" + "a".repeat(32),
    "ubuntu@" + "a".repeat(64),
    "ubuntu@",
    "127.0.0.1:5000/foo/bar:1",
  ]) {
    assert.deepEqual(splitEnrootPrefix(text), { image: text }, text);
  }
});

test("docker://nvcr.io#nvidia/pytorch:24.01-py3 → nvcr.io/nvidia/pytorch:24.01-py3 on any backend", () => {
  for (const defaults of [docker, nvidia]) {
    const ref = parseImageReference("docker://nvcr.io#nvidia/pytorch:24.01-py3", defaults);
    assert.equal(formatReference(ref), "nvcr.io/nvidia/pytorch:24.01-py3");
    assert.equal(ref.collection, "nvidia");
    assert.equal(ref.name, "pytorch");
    assert.equal(ref.user, undefined);
  }
});

test("USER@ is kept as the login; the rest parses as usual", () => {
  const ref = parseImageReference("docker://$oauthtoken@nvcr.io#nvidia/clara/parabricks:4.2@" + SHA, docker);
  assert.deepEqual(ref, {
    registry: "nvcr.io",
    repository: "nvidia/clara/parabricks",
    collection: "nvidia/clara",
    name: "parabricks",
    tag: "4.2",
    digest: SHA,
    user: "$oauthtoken",
  });
  const hub = parseImageReference("docker://alice@ubuntu:22.04", docker);
  assert.equal(formatReference(hub), "index.docker.io/library/ubuntu:22.04");
  assert.equal(hub.user, "alice");
});

test("REGISTRY# names the registry even for a first path segment that looks like a host", () => {
  const ref = parseImageReference("127.0.0.1:5000#my.org/tools:1", docker);
  assert.equal(ref.registry, "127.0.0.1:5000");
  assert.equal(ref.repository, "my.org/tools");
  // Docker Hub's names still normalise, and a single segment gets library/ there.
  assert.equal(parseImageReference("docker.io#ubuntu", docker).repository, "library/ubuntu");
});

test("bad enroot prefixes are one BAD_REFERENCE error", () => {
  for (const input of ["#nvidia/pytorch", "nvcr.io#", "bad host#x", "a b@nvcr.io#x", "nvcr.io#x#y"]) {
    assert.throws(
      () => parseImageReference(input, docker),
      (err: unknown) => err instanceof SregistryError && err.code === "BAD_REFERENCE",
      input,
    );
  }
});
