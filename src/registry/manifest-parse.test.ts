import { test } from "node:test";
import assert from "node:assert/strict";
import { parseManifest, kindOfMediaType } from "./manifest-parse.js";
import { MediaType } from "../oci/types.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c = "a", size = 10) => ({ mediaType, digest: D(c), size });

const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: desc(MediaType.OciConfig, "c"),
  layers: [desc(MediaType.OciLayerGzip, "1"), desc(MediaType.OciLayerGzip, "2")],
};
const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: desc(MediaType.DockerConfig, "c"),
  layers: [desc(MediaType.DockerLayerGzip, "1")],
};
const index = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [{ ...desc(MediaType.OciManifest, "d"), platform: { os: "linux", architecture: "amd64" } }],
};
const schema1 = {
  schemaVersion: 1,
  name: "x",
  fsLayers: [{ blobSum: D("1") }],
  history: [{ v1Compatibility: "{}" }],
};

const parse = (doc: unknown, contentType?: string) =>
  parseManifest(Buffer.from(typeof doc === "string" ? doc : JSON.stringify(doc)), contentType, "reg/x:1");

test("kinds and media types of valid documents", () => {
  assert.deepEqual(
    [parse(ociManifest).kind, parse(ociManifest).mediaType],
    ["manifest", MediaType.OciManifest],
  );
  assert.equal(parse(dockerManifest).mediaType, MediaType.DockerManifest);
  assert.deepEqual([parse(index).kind, parse(index).mediaType], ["index", MediaType.OciIndex]);
  assert.deepEqual([parse(schema1).kind, parse(schema1).mediaType], ["schema1", MediaType.DockerManifestV1]);
  assert.equal(parse({ ...schema1, signatures: [] }).mediaType, MediaType.DockerManifestV1Signed);
});

test("without a body mediaType: Content-Type, then structure", () => {
  const { mediaType: _m, ...bare } = dockerManifest;
  assert.equal(parse(bare, MediaType.DockerManifest + "; charset=utf-8").mediaType, MediaType.DockerManifest);
  assert.equal(parse(bare).mediaType, MediaType.DockerManifest, "config media type says docker");
  const { mediaType: _i, ...bareIndex } = index;
  assert.equal(parse(bareIndex, "text/plain").kind, "index", "a text Content-Type does not stop parsing");
  assert.equal(parse(bareIndex, MediaType.DockerManifestList).mediaType, MediaType.DockerManifestList);
});

const invalid: [string, unknown, string | undefined, RegExp][] = [
  ["malformed JSON", "{not json", undefined, /not valid JSON/],
  ["an array", "[]", undefined, /not a JSON object/],
  ["no structure", { schemaVersion: 2 }, undefined, /neither manifests nor config/],
  [
    "index mediaType on a manifest",
    { ...ociManifest, mediaType: MediaType.OciIndex },
    undefined,
    /disagrees/,
  ],
  [
    "manifest mediaType on an index",
    { ...index, mediaType: MediaType.DockerManifest },
    undefined,
    /disagrees/,
  ],
  ["both shapes", { ...index, layers: [] }, undefined, /both manifests and config/],
  [
    "Content-Type says index, body is a manifest",
    { ...ociManifest, mediaType: undefined },
    MediaType.OciIndex,
    /Content-Type/,
  ],
  [
    "unknown mediaType",
    { ...ociManifest, mediaType: "application/vnd.evil+json" },
    undefined,
    /unsupported mediaType/,
  ],
  ["schemaVersion 3", { ...ociManifest, schemaVersion: 3 }, undefined, /schemaVersion must be 2/],
  [
    "bad layer digest",
    { ...ociManifest, layers: [{ ...desc("x"), digest: "sha256:../../etc" }] },
    undefined,
    /layers\[0\]\.digest/,
  ],
  [
    "negative size",
    { ...ociManifest, layers: [desc("x", "a", -1)] },
    undefined,
    /size must be a non-negative integer/,
  ],
  ["fractional size", { ...ociManifest, config: desc("x", "a", 1.5) }, undefined, /config\.size/],
  ["huge size", { ...ociManifest, config: desc("x", "a", 2 ** 60) }, undefined, /config\.size/],
  ["layers not a list", { ...ociManifest, layers: {} }, undefined, /layers is not a list/],
  [
    "platform without os",
    { ...index, manifests: [{ ...desc("x"), platform: { architecture: "amd64" } }] },
    undefined,
    /platform/,
  ],
  ["schema1 bad blobSum", { ...schema1, fsLayers: [{ blobSum: "md5:x" }] }, undefined, /blobSum/],
  ["schema1 length mismatch", { ...schema1, history: [] }, undefined, /differ in length/],
];

for (const [name, doc, contentType, pattern] of invalid) {
  test(`rejects ${name}`, () => {
    assert.throws(
      () => parse(doc, contentType),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "MANIFEST_INVALID");
        assert.match(err.message, /^invalid manifest for reg\/x:1: /);
        assert.match(err.message, pattern);
        return true;
      },
    );
  });
}

test("kindOfMediaType", () => {
  assert.equal(kindOfMediaType(MediaType.DockerManifestList), "index");
  assert.equal(kindOfMediaType(MediaType.DockerManifestV1Signed), "schema1");
  assert.equal(kindOfMediaType("application/json"), undefined);
  assert.equal(kindOfMediaType(undefined), undefined);
});
