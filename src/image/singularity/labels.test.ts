import { test } from "node:test";
import assert from "node:assert/strict";
import { labelSchemaDate, labelsJson, rfc3339 } from "./labels.js";

const build = {
  created: new Date("2026-08-18T09:12:45.678Z"),
  reference: "nvcr.io/nvidia/pytorch:24.04-py3",
  manifestDigest: "sha256:" + "ab".repeat(32),
  architecture: "arm64",
  variant: "v8",
  tool: "sregistry",
  version: "0.3.0",
};

test("build labels are merged over image labels, sorted, tab-indented, Go-escaped", () => {
  const text = labelsJson(
    { zeta: "z", "org.label-schema.schema-version": "image value", "html<&>": "a<b>&c", alpha: "1" },
    build,
  );
  const expected = [
    "{",
    '\t"alpha": "1",',
    '\t"html\\u003c\\u0026\\u003e": "a\\u003cb\\u003e\\u0026c",',
    '\t"org.label-schema.build-arch": "arm64",',
    '\t"org.label-schema.build-date": "Tuesday_18_August_2026_09:12:45_UTC",',
    '\t"org.label-schema.schema-version": "1.0",',
    '\t"org.label-schema.usage.singularity.deffile.bootstrap": "docker",',
    '\t"org.label-schema.usage.singularity.deffile.from": "nvcr.io/nvidia/pytorch:24.04-py3",',
    '\t"org.label-schema.usage.sregistry.version": "0.3.0",',
    '\t"org.opencontainers.image.architecture": "arm64",',
    `\t"org.opencontainers.image.base.digest": "sha256:${"ab".repeat(32)}",`,
    '\t"org.opencontainers.image.base.name": "nvcr.io/nvidia/pytorch:24.04-py3",',
    '\t"org.opencontainers.image.created": "2026-08-18T09:12:45Z",',
    '\t"org.opencontainers.image.variant": "v8",',
    '\t"zeta": "z"',
    "}",
  ].join("\n");
  assert.equal(text, expected);
  assert.equal(JSON.parse(text)["html<&>"], "a<b>&c");
});

test("no image labels, no digest, no variant", () => {
  const parsed = JSON.parse(
    labelsJson(null, { ...build, manifestDigest: undefined, variant: undefined }),
  ) as Record<string, string>;
  assert.equal(parsed["org.opencontainers.image.base.digest"], undefined);
  assert.equal(parsed["org.opencontainers.image.variant"], undefined);
  assert.equal(Object.keys(parsed).length, 9);
});

test("date formats", () => {
  assert.equal(labelSchemaDate(new Date("2024-01-07T23:05:09Z")), "Sunday_7_January_2024_23:05:09_UTC");
  assert.equal(rfc3339(new Date("2024-01-07T23:05:09.999Z")), "2024-01-07T23:05:09Z");
});
