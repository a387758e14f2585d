import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labelsFromMetrics, matchesLabel } from "./labels.js";

describe("labelsFromMetrics", () => {
  it("reads labels and config.config.Labels, first source winning, ignoring other top-level keys", () => {
    const metrics = {
      collection: "library",
      uri: "library/x:1",
      type: "container",
      digest: "sha256:abc",
      selfLink: "https://nvcr.io/v2/x/manifests/1",
      labels: { MAINTAINER: "labels", count: 3, nested: { no: 1 } },
      config: { config: { Labels: { "com.nvidia.cuda.version": "12.2", MAINTAINER: "config" } } },
      schemaVersion: 2,
    };
    assert.deepEqual(labelsFromMetrics(metrics), [
      { key: "MAINTAINER", value: "labels" },
      { key: "count", value: "3" },
      { key: "com.nvidia.cuda.version", value: "12.2" },
    ]);
  });

  it("reads top-level strings of the original's rows (labels merged in from singularity inspect)", () => {
    const metrics = {
      collection: "library",
      uri: "library/x:1",
      type: "container",
      MAINTAINER: "top",
      "org.label-schema.build-date": "2018",
      schemaVersion: 2,
    };
    assert.deepEqual(labelsFromMetrics(metrics), [
      { key: "MAINTAINER", value: "top" },
      { key: "org.label-schema.build-date", value: "2018" },
    ]);
  });

  it("returns nothing for non-objects", () => {
    assert.deepEqual(labelsFromMetrics(undefined), []);
    assert.deepEqual(labelsFromMetrics("text"), []);
    assert.deepEqual(labelsFromMetrics([{ a: "b" }]), []);
    assert.deepEqual(labelsFromMetrics({ config: { config: { Labels: null } } }), []);
  });
});

describe("matchesLabel", () => {
  const label = { key: "org.opencontainers.image.Vendor", value: "NVIDIA Corporation" };
  it("matches case-insensitive substrings of key and value", () => {
    assert.equal(matchesLabel(label, {}), true);
    assert.equal(matchesLabel(label, { key: "vendor" }), true);
    assert.equal(matchesLabel(label, { value: "nvidia" }), true);
    assert.equal(matchesLabel(label, { key: "vendor", value: "intel" }), false);
    assert.equal(matchesLabel(label, { key: "version" }), false);
  });
});
