import assert from "node:assert/strict";
import { test } from "node:test";
import { formatReference } from "./image-reference.js";
import { isOrasUri, parseOrasUri } from "./oras.js";

test("oras:// uris: registry, repository, tag; Docker Hub and latest by default, as Apptainer", () => {
  assert.equal(isOrasUri("oras://ghcr.io/me/tools:1.0"), true);
  assert.equal(isOrasUri("ORAS://ghcr.io/me/tools"), true);
  assert.equal(isOrasUri("docker://ghcr.io/me/tools"), false);
  assert.equal(isOrasUri(undefined), false);
  assert.equal(
    formatReference(parseOrasUri("oras://127.0.0.1:5000/site/pytorch:24.01")),
    "127.0.0.1:5000/site/pytorch:24.01",
  );
  assert.equal(formatReference(parseOrasUri("oras://ghcr.io/me/tools")), "ghcr.io/me/tools:latest");
  assert.equal(formatReference(parseOrasUri("oras://me/tools:2")), "index.docker.io/me/tools:2");
});

test("anything else is a BAD_REFERENCE error", () => {
  assert.throws(() => parseOrasUri("docker://ubuntu"), { code: "BAD_REFERENCE" });
  assert.throws(() => parseOrasUri("oras://ghcr.io/Bad Name:1"), { code: "BAD_REFERENCE" });
});
