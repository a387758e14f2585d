import { test } from "node:test";
import assert from "node:assert/strict";
import { schema1Payload, schema1ToImage } from "./schema1.js";
import type { Schema1Manifest } from "../oci/types.js";

const D = (c: string) => `sha256:${c.repeat(64)}` as const;

test("schema1ToImage: top config, layers bottom first, throwaway skipped", () => {
  const manifest: Schema1Manifest = {
    schemaVersion: 1,
    architecture: "amd64",
    fsLayers: [{ blobSum: D("3") }, { blobSum: D("a") }, { blobSum: D("1") }],
    history: [
      {
        v1Compatibility: JSON.stringify({
          id: "top",
          created: "2020-01-02T00:00:00Z",
          architecture: "arm64",
          os: "linux",
          config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
          container_config: { Cmd: ["/bin/sh", "-c", '#(nop) CMD ["sh"]'] },
        }),
      },
      { v1Compatibility: JSON.stringify({ id: "mid", throwaway: true }) },
      { v1Compatibility: JSON.stringify({ id: "base", created: "2020-01-01T00:00:00Z" }) },
    ],
  };
  const { config, layers } = schema1ToImage(manifest);
  assert.deepEqual(
    layers.map((l) => [l.digest, l.size]),
    [
      [D("1"), -1],
      [D("3"), -1],
    ],
  );
  assert.equal(config.architecture, "arm64");
  assert.equal(config.os, "linux");
  assert.deepEqual(config.config, { Env: ["PATH=/bin"], Cmd: ["sh"] });
  assert.equal(config.created, "2020-01-02T00:00:00Z");
  assert.equal(config.history?.length, 3);
  assert.equal(config.history?.[1]?.empty_layer, true);
  assert.equal(config.rootfs, undefined);
});

test("schema1ToImage rejects a non-JSON v1Compatibility", () => {
  assert.throws(
    () =>
      schema1ToImage({
        schemaVersion: 1,
        fsLayers: [{ blobSum: D("1") }],
        history: [{ v1Compatibility: "nope" }],
      }),
    { code: "MANIFEST_INVALID" },
  );
});

test("schema1Payload: unsigned is the bytes, signed strips the signatures", () => {
  const payload = '{\n   "schemaVersion": 1,\n   "name": "x"';
  const tail = "\n}";
  const signed = `${payload},\n   "signatures": [{"protected": "${Buffer.from(
    JSON.stringify({ formatLength: payload.length, formatTail: Buffer.from(tail).toString("base64url") }),
  ).toString("base64url")}"}]\n}`;
  const bytes = Buffer.from(signed);
  assert.equal(schema1Payload(bytes, JSON.parse(signed)).toString(), payload + tail);
  const unsigned = Buffer.from(payload + tail);
  assert.equal(schema1Payload(unsigned, {}), unsigned);
  assert.throws(() => schema1Payload(bytes, { signatures: [{ protected: "!!" }] }), {
    code: "MANIFEST_INVALID",
  });
});
