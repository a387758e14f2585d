import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createSif } from "../image/sif/writer.js";
import { SIF_CONFIG, SIF_CONFIG_DIGEST, sifArtifactManifest, sifCreated } from "./sif-artifact.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sif-artifact-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LAYER = "sha256:" + "13".repeat(32);

test("the manifest is byte for byte the one Apptainer's go-containerregistry writes", () => {
  // Field order of v1.Manifest / v1.Descriptor, compact JSON, config inlined as base64 `data`.
  const expected =
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
    '"config":{"mediaType":"application/vnd.sylabs.sif.config.v1+json","size":2,' +
    '"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","data":"e30="},' +
    `"layers":[{"mediaType":"application/vnd.sylabs.sif.layer.v1.sif","size":29814784,"digest":"${LAYER}",` +
    '"annotations":{"org.opencontainers.image.title":"ubuntu_latest.sif"}}],' +
    '"annotations":{"org.opencontainers.image.created":"2023-12-19T16:02:14Z"}}';
  const bytes = sifArtifactManifest({
    digest: LAYER,
    size: 29814784,
    title: "ubuntu_latest.sif",
    created: "2023-12-19T16:02:14Z",
  });
  assert.equal(bytes.toString(), expected);
  const withoutCreated = sifArtifactManifest({ digest: LAYER, size: 1, title: "a.sif" }).toString();
  assert.doesNotMatch(withoutCreated, /image\.created/);
  // Go's json.Marshal escapes <, > and & in strings; JSON.stringify would not.
  const odd = sifArtifactManifest({ digest: LAYER, size: 1, title: 'a<b>&"c.sif' }).toString();
  assert.match(odd, /"org\.opencontainers\.image\.title":"a\\u003cb\\u003e\\u0026\\"c\.sif"/);
});

test("the config blob is the OCI empty value {} with its well-known digest", () => {
  assert.equal(SIF_CONFIG.toString(), "{}");
  assert.equal(SIF_CONFIG_DIGEST, "sha256:" + createHash("sha256").update(SIF_CONFIG).digest("hex"));
});

async function sif(name: string, inspectMetadata: string, created: Date): Promise<string> {
  const partition = join(dir, `${name}.sqfs`);
  await writeFile(partition, Buffer.concat([Buffer.from("hsqs"), Buffer.alloc(4092, 1)]));
  const path = join(dir, `${name}.sif`);
  await createSif(path, {
    definition: "bootstrap: docker\n",
    inspectMetadata,
    ociConfig: "{}",
    partition: { path: partition, arch: "amd64" },
    created,
  });
  return path;
}

test("created: the SIF's org.opencontainers.image.created label in UTC, else the SIF header's time", async () => {
  const labelled = await sif(
    "labelled",
    '{"data":{"attributes":{"labels":{"org.opencontainers.image.created":"2024-01-02T04:04:05+01:00"}}},"type":"container"}',
    new Date("2020-01-01T00:00:00Z"),
  );
  assert.equal(await sifCreated(labelled), "2024-01-02T03:04:05Z");
  const bare = await sif(
    "bare",
    '{"data":{"attributes":{}},"type":"container"}',
    new Date("2021-05-06T07:08:09Z"),
  );
  assert.equal(await sifCreated(bare), "2021-05-06T07:08:09Z");
});

test("created: a file that is not a SIF is an error", async () => {
  const path = join(dir, "not.sif");
  await writeFile(path, Buffer.alloc(8192, 0x41));
  await assert.rejects(sifCreated(path), /not a SIF image/);
});
