import { test } from "node:test";
import assert from "node:assert/strict";
import { SregistryError } from "../util/errors.js";
import { catalogUriFromReference, formatCatalogUri, parseCatalogUri } from "./catalog-uri.js";
import { parseImageReference } from "./image-reference.js";

const HEX = "0123456789abcdef".repeat(4);
const MD5 = "0123456789abcdef".repeat(2);
const SHA = `sha256:${HEX}`;

test("defaults: collection library, tag latest, no version", () => {
  assert.deepEqual(parseCatalogUri("ubuntu"), { collection: "library", name: "ubuntu", tag: "latest" });
  assert.deepEqual(parseCatalogUri("tensorflow:17.11", "nvidia"), {
    collection: "nvidia",
    name: "tensorflow",
    tag: "17.11",
  });
});

test("lower-cases and strips the scheme like the original", () => {
  assert.deepEqual(parseCatalogUri("docker://Library/Ubuntu:Bionic"), {
    collection: "library",
    name: "ubuntu",
    tag: "bionic",
  });
  assert.deepEqual(parseCatalogUri("nvidia://nvidia/caffe2:17.10"), {
    collection: "nvidia",
    name: "caffe2",
    tag: "17.10",
  });
});

test("versions: sha256 hex, md5 hex, sha256:<hex>, empty", () => {
  assert.equal(parseCatalogUri(`vsoch/hello-world:latest@${HEX}`).version, HEX);
  assert.equal(parseCatalogUri(`vsoch/hello-world:latest@${MD5}`).version, MD5);
  assert.equal(parseCatalogUri(`vsoch/hello-world:latest@${SHA}`).version, SHA);
  assert.equal(parseCatalogUri(`vsoch/hello-world@${HEX.toUpperCase()}`).version, HEX);
  const empty = parseCatalogUri("vsoch/hello-world:latest@");
  assert.equal(empty.version, undefined);
  assert.ok(!("version" in empty));
});

test("bad versions are refused", () => {
  for (const version of ["abc", "x".repeat(64), HEX + "0", "md5:" + MD5, "sha256:abc", "../../etc"]) {
    const query = `a/b:c@${version}`;
    assert.throws(
      () => parseCatalogUri(query),
      (err: unknown) =>
        err instanceof SregistryError && err.code === "BAD_REFERENCE" && err.message.includes("bad version"),
      version,
    );
  }
});

test("nested collections and a leading registry host", () => {
  assert.deepEqual(parseCatalogUri("nvidia/clara/clara-parabricks:4.2"), {
    collection: "nvidia/clara",
    name: "clara-parabricks",
    tag: "4.2",
  });
  assert.deepEqual(parseCatalogUri("127.0.0.1:5000/foo/bar:1"), { collection: "foo", name: "bar", tag: "1" });
  assert.deepEqual(parseCatalogUri("nvcr.io/nvidia/tensorflow:18.01-py3"), {
    collection: "nvidia",
    name: "tensorflow",
    tag: "18.01-py3",
  });
  assert.equal(parseCatalogUri("localhost/bar").collection, "library");
  assert.deepEqual(parseCatalogUri("library/ubuntu/"), {
    collection: "library",
    name: "ubuntu",
    tag: "latest",
  });
});

test("image-file extensions at the end are removed", () => {
  assert.equal(parseCatalogUri("vsoch/hello-world.simg").name, "hello-world");
  assert.equal(parseCatalogUri("vsoch/hello-world:latest.sif").tag, "latest");
  assert.equal(parseCatalogUri(`vsoch/hello-world:latest@${HEX}.sif`).version, HEX);
  assert.equal(parseCatalogUri("my.img-tools").name, "my.img-tools");
});

test("bad queries are refused", () => {
  for (const query of ["", "a//b", "/a", "a/../b", "a/b:", "a/b:.x", "a b", "a/b;rm"]) {
    assert.throws(() => parseCatalogUri(query), SregistryError, JSON.stringify(query));
  }
});

test("formatCatalogUri adds @version only when not empty", () => {
  assert.equal(
    formatCatalogUri({ collection: "nvidia", name: "caffe2", tag: "17.10", version: "" }),
    "nvidia/caffe2:17.10",
  );
  assert.equal(
    formatCatalogUri({ collection: "nvidia", name: "caffe2", tag: "17.10" }),
    "nvidia/caffe2:17.10",
  );
  assert.equal(
    formatCatalogUri({ collection: "library", name: "ubuntu", tag: "latest", version: HEX }),
    `library/ubuntu:latest@${HEX}`,
  );
});

test("parse and format round-trip", () => {
  for (const uri of ["library/ubuntu:latest", `nvidia/clara/clara-parabricks:4.2@${SHA}`, `a/b:c@${MD5}`]) {
    assert.equal(formatCatalogUri(parseCatalogUri(uri)), uri);
  }
});

test("catalogUriFromReference: collection without registry, version or digest", () => {
  const nvidia = { registry: "nvcr.io", defaultCollection: "nvidia" };
  const docker = { registry: "index.docker.io", defaultCollection: "library" };
  const tf = parseImageReference("tensorflow:18.01-py3", nvidia);
  assert.equal(formatCatalogUri(catalogUriFromReference(tf)), "nvidia/tensorflow:18.01-py3");
  assert.equal(formatCatalogUri(catalogUriFromReference(tf, HEX)), `nvidia/tensorflow:18.01-py3@${HEX}`);
  const local = parseImageReference("127.0.0.1:5000/foo/bar:1", docker);
  assert.deepEqual(catalogUriFromReference(local), { collection: "foo", name: "bar", tag: "1" });
  const byDigest = parseImageReference(`ubuntu@${SHA}`, docker);
  assert.equal(formatCatalogUri(catalogUriFromReference(byDigest)), `library/ubuntu:latest@${SHA}`);
  assert.equal(catalogUriFromReference(byDigest, HEX).version, HEX);
  const nested = parseImageReference("nvidia/clara/clara-parabricks:4.2", nvidia);
  assert.deepEqual(catalogUriFromReference(nested), parseCatalogUri("nvidia/clara/clara-parabricks:4.2"));
  assert.equal(
    formatCatalogUri(catalogUriFromReference(parseImageReference("Library/Ubuntu:Bionic", docker))),
    "library/ubuntu:bionic",
  );
});
