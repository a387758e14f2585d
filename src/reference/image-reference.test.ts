import { test } from "node:test";
import assert from "node:assert/strict";
import { SregistryError } from "../util/errors.js";
import {
  formatReference,
  parseImageReference,
  referenceTarget,
  referenceToString,
  type ImageReference,
} from "./image-reference.js";

const nvidia = { registry: "nvcr.io", defaultCollection: "nvidia" };
const docker = { registry: "index.docker.io", defaultCollection: "library" };
const SHA = "sha256:" + "ab".repeat(32);

function isBadReference(input: string) {
  return (err: unknown) =>
    err instanceof SregistryError &&
    err.code === "BAD_REFERENCE" &&
    err.message.startsWith(`invalid image reference "${input.trim().slice(0, 100)}`);
}

test("nvidia: tensorflow:18.01-py3 → nvcr.io/nvidia/tensorflow:18.01-py3", () => {
  assert.deepEqual(parseImageReference("tensorflow:18.01-py3", nvidia), {
    registry: "nvcr.io",
    repository: "nvidia/tensorflow",
    collection: "nvidia",
    name: "tensorflow",
    tag: "18.01-py3",
  });
  assert.equal(
    formatReference(parseImageReference("tensorflow:17.11", nvidia)),
    "nvcr.io/nvidia/tensorflow:17.11",
  );
});

test("nvidia: full names with the registry and nested NGC names keep every segment", () => {
  const full = parseImageReference("nvcr.io/nvidia/tensorflow:18.01-py3", nvidia);
  assert.equal(full.registry, "nvcr.io");
  assert.equal(full.repository, "nvidia/tensorflow");
  const nested = parseImageReference("nvidia/clara/clara-parabricks:4.2.0-1", nvidia);
  assert.deepEqual(nested, {
    registry: "nvcr.io",
    repository: "nvidia/clara/clara-parabricks",
    collection: "nvidia/clara",
    name: "clara-parabricks",
    tag: "4.2.0-1",
  });
  const deep = parseImageReference("nvcr.io/nvidia/clara/bionemo/framework:1.0", nvidia);
  assert.equal(deep.repository, "nvidia/clara/bionemo/framework");
  assert.equal(deep.collection, "nvidia/clara/bionemo");
  assert.equal(deep.name, "framework");
  assert.equal(parseImageReference("nvcr.io/caffe2", nvidia).repository, "nvidia/caffe2");
});

test("docker: ubuntu → index.docker.io/library/ubuntu:latest", () => {
  const ref = parseImageReference("ubuntu", docker);
  assert.deepEqual(ref, {
    registry: "index.docker.io",
    repository: "library/ubuntu",
    collection: "library",
    name: "ubuntu",
    tag: "latest",
  });
  assert.equal(formatReference(ref), "index.docker.io/library/ubuntu:latest");
});

test("Library/Ubuntu:Bionic → library/ubuntu, tag case kept for the registry", () => {
  const ref = parseImageReference("Library/Ubuntu:Bionic", docker);
  assert.equal(ref.repository, "library/ubuntu");
  assert.equal(ref.tag, "Bionic");
  assert.equal(referenceToString(ref, "index.docker.io"), "library/ubuntu:Bionic");
});

test("docker: two segments are a user repository; Docker Hub aliases normalise to the backend's registry", () => {
  assert.equal(parseImageReference("vsoch/hello-world", docker).repository, "vsoch/hello-world");
  for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io", "Docker.IO"]) {
    const ref = parseImageReference(`${host}/busybox:1.36`, docker);
    assert.equal(ref.registry, "index.docker.io", host);
    assert.equal(ref.repository, "library/busybox", host);
  }
  const hubDefault = { registry: "docker.io", defaultCollection: "library" };
  assert.equal(parseImageReference("registry-1.docker.io/library/alpine", hubDefault).registry, "docker.io");
});

test("Docker Hub named from the nvidia backend still gets library/", () => {
  const ref = parseImageReference("docker.io/ubuntu", nvidia);
  assert.equal(ref.registry, "docker.io");
  assert.equal(ref.repository, "library/ubuntu");
});

test("hosts with ports, localhost, IP addresses: no implicit collection on a foreign registry", () => {
  const ref = parseImageReference("127.0.0.1:5000/foo/bar:1", docker);
  assert.deepEqual(ref, {
    registry: "127.0.0.1:5000",
    repository: "foo/bar",
    collection: "foo",
    name: "bar",
    tag: "1",
  });
  const single = parseImageReference("localhost:5000/bar", nvidia);
  assert.equal(single.repository, "bar");
  assert.equal(single.collection, "nvidia");
  assert.equal(parseImageReference("localhost/bar", docker).registry, "localhost");
  assert.equal(parseImageReference("LocalHost/bar", docker).registry, "localhost");
  assert.equal(parseImageReference("ghcr.io/owner/img:v1", docker).registry, "ghcr.io");
  assert.equal(parseImageReference("[::1]:5000/a/b", docker).registry, "[::1]:5000");
  assert.equal(formatReference(ref), "127.0.0.1:5000/foo/bar:1");
});

test("a custom default registry gets the default collection for single names", () => {
  const local = { registry: "127.0.0.1:5000", defaultCollection: "library" };
  assert.equal(parseImageReference("ubuntu", local).repository, "library/ubuntu");
  assert.equal(parseImageReference("127.0.0.1:5000/ubuntu", local).repository, "library/ubuntu");
});

test("a first segment without . or : is not a registry", () => {
  const ref = parseImageReference("nvidia/cuda/foo:1", docker);
  assert.equal(ref.registry, "index.docker.io");
  assert.equal(ref.repository, "nvidia/cuda/foo");
});

test("digests: validated, lower-cased, kept with a tag, and they win for fetching", () => {
  const byDigest = parseImageReference(`ubuntu@${SHA}`, docker);
  assert.equal(byDigest.digest, SHA);
  assert.equal(byDigest.tag, "latest");
  assert.equal(referenceTarget(byDigest), SHA);
  assert.equal(formatReference(byDigest), `index.docker.io/library/ubuntu:latest@${SHA}`);
  const both = parseImageReference(
    `127.0.0.1:5000/foo/bar:1@${SHA.toUpperCase().replace("SHA256", "sha256")}`,
    docker,
  );
  assert.equal(both.tag, "1");
  assert.equal(both.digest, SHA);
  assert.equal(referenceTarget(both), SHA);
  assert.equal(referenceTarget(parseImageReference("foo:2", docker)), "2");
  assert.equal(parseImageReference("foo", docker).digest, undefined);
  assert.ok(!("digest" in parseImageReference("foo", docker)));
  const sha512 = "sha512:" + "cd".repeat(64);
  assert.equal(parseImageReference(`foo@${sha512}`, docker).digest, sha512);
});

test("invalid digests are rejected with the reference named", () => {
  for (const input of [
    "ubuntu@sha256:abc",
    "ubuntu@md5:" + "a".repeat(32),
    "ubuntu@" + "a".repeat(64),
    "ubuntu@sha256:" + "g".repeat(64),
    "ubuntu@",
    `ubuntu@${SHA}@${SHA}`,
  ]) {
    assert.throws(() => parseImageReference(input, docker), isBadReference(input), input);
  }
});

test("image-file extensions are removed at the end only", () => {
  assert.equal(parseImageReference("vsoch/hello-world.simg", docker).repository, "vsoch/hello-world");
  assert.equal(parseImageReference("ubuntu.sif:18.04", docker).repository, "library/ubuntu");
  assert.equal(parseImageReference("ubuntu:18.04.sif", docker).tag, "18.04");
  assert.equal(parseImageReference("foo.IMG", docker).name, "foo");
  assert.equal(parseImageReference("my.img-tools:1", docker).name, "my.img-tools");
  assert.equal(parseImageReference("tools.sif.backup", docker).name, "tools.sif.backup");
});

test("schemes are ignored, whitespace trimmed", () => {
  assert.equal(parseImageReference("docker://busybox", docker).repository, "library/busybox");
  assert.equal(parseImageReference("  nvidia://caffe2:17.10 ", nvidia).repository, "nvidia/caffe2");
});

test("bad references are SregistryErrors naming them", () => {
  for (const input of [
    "",
    "  ",
    "foo/",
    "/foo",
    "foo//bar",
    "foo:",
    "foo:-bad",
    "foo:" + "a".repeat(129),
    "fo$o",
    "foo bar",
    "-foo",
    "foo-",
    "foo..bar",
    "bad_host:5000x/foo/bar",
    "a.b-/c",
    "example.com:99999999/a",
  ]) {
    assert.throws(() => parseImageReference(input, docker), isBadReference(input), JSON.stringify(input));
  }
});

test("the distribution grammar accepts separators it allows", () => {
  for (const name of ["a", "a.b", "a_b", "a__b", "a-b", "a---b", "a0.b1_c2-d3"]) {
    assert.equal(parseImageReference(`x/${name}`, docker).name, name);
  }
  assert.equal(parseImageReference("x/y:Tag_1.2-rc", docker).tag, "Tag_1.2-rc");
  assert.equal(parseImageReference("x/y:_t", docker).tag, "_t");
});

test("names longer than 255 characters are refused", () => {
  const long = "a".repeat(250) + "/" + "b".repeat(10);
  assert.throws(() => parseImageReference(long, docker), /longer than 255/);
});

test("referenceToString: the registry is left out only when it is the given default", () => {
  const ref: ImageReference = parseImageReference("127.0.0.1:5000/foo/bar:1", docker);
  assert.equal(referenceToString(ref), "127.0.0.1:5000/foo/bar:1");
  assert.equal(referenceToString(ref, "index.docker.io"), "127.0.0.1:5000/foo/bar:1");
  assert.equal(
    referenceToString(parseImageReference("caffe2:17.10", nvidia), "nvcr.io"),
    "nvidia/caffe2:17.10",
  );
  assert.equal(
    referenceToString(parseImageReference(`a@${SHA}`, nvidia), "nvcr.io"),
    `nvidia/a:latest@${SHA}`,
  );
});
