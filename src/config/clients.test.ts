import { test } from "node:test";
import assert from "node:assert/strict";
import { isKnownClient, isRegistryClient, KNOWN_CLIENTS, normaliseClientName } from "./clients.js";

test("normaliseClientName: underscores, case and shub", () => {
  assert.equal(normaliseClientName("google_storage"), "google-storage");
  assert.equal(normaliseClientName("NVIDIA"), "nvidia");
  assert.equal(normaliseClientName("shub"), "hub");
  assert.equal(normaliseClientName("myshub"), "hub");
});

test("the fifteen schemes of the original and oras are known, others are not", () => {
  assert.equal(KNOWN_CLIENTS.length, 16);
  for (const name of ["docker", "nvidia", "hub", "s3", "google_drive", "shub", "https", "oras"]) {
    assert.equal(isKnownClient(name), true, name);
  }
  for (const name of ["ftp", "library", ""]) assert.equal(isKnownClient(name), false, name);
});

test("only docker and nvidia are registry clients", () => {
  assert.equal(isRegistryClient("docker"), true);
  assert.equal(isRegistryClient("nvidia"), true);
  assert.equal(isRegistryClient("hub"), false);
  assert.equal(isRegistryClient("registry"), false);
});
