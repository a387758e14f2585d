import { test } from "node:test";
import assert from "node:assert/strict";
import { selectPlatform, normalizePlatform } from "./platform.js";
import type { Digest } from "../oci/digest.js";
import { MediaType, type Descriptor, type ImageIndex, type Platform } from "../oci/types.js";

let n = 0;
function entry(platform: Platform | undefined, extra: Partial<Descriptor> = {}): Descriptor {
  n++;
  return {
    mediaType: MediaType.OciManifest,
    digest: `sha256:${n.toString(16).padStart(64, "0")}`,
    size: 100,
    ...(platform ? { platform } : {}),
    ...extra,
  };
}

const amd64 = entry({ os: "linux", architecture: "amd64" });
const arm64 = entry({ os: "linux", architecture: "arm64", variant: "v8" });
const armv6 = entry({ os: "linux", architecture: "arm", variant: "v6" });
const armv7 = entry({ os: "linux", architecture: "arm", variant: "v7" });
const ppc = entry({ os: "linux", architecture: "ppc64le" });
const attestation = entry(
  { os: "unknown", architecture: "unknown" },
  { annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
);
const attestationKnownPlatform = entry(
  { os: "linux", architecture: "s390x" },
  { annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
);
const index: ImageIndex = {
  schemaVersion: 2,
  manifests: [attestation, attestationKnownPlatform, amd64, arm64, armv6, armv7, ppc],
};

const table: [string, Platform, Descriptor][] = [
  ["amd64", { os: "linux", architecture: "amd64" }, amd64],
  ["x86_64 alias", { os: "linux", architecture: "x86_64" }, amd64],
  ["arm64 without variant matches v8", { os: "linux", architecture: "arm64" }, arm64],
  ["aarch64 alias", { os: "Linux", architecture: "aarch64" }, arm64],
  ["arm64/8", { os: "linux", architecture: "arm64", variant: "8" }, arm64],
  ["arm defaults to v7", { os: "linux", architecture: "arm" }, armv7],
  ["armhf", { os: "linux", architecture: "armhf" }, armv7],
  ["arm v6 exact", { os: "linux", architecture: "arm", variant: "v6" }, armv6],
  ["ppc64le", { os: "linux", architecture: "ppc64le" }, ppc],
];

for (const [name, want, expected] of table) {
  test(`selectPlatform: ${name}`, () => {
    assert.equal(selectPlatform(index, want, "reg/x:1").digest, expected.digest);
  });
}

test("arm v7 falls back to v6 when there is no v7", () => {
  const only6: ImageIndex = { schemaVersion: 2, manifests: [amd64, armv6] };
  assert.equal(selectPlatform(only6, { os: "linux", architecture: "arm" }, "r").digest, armv6.digest);
  assert.throws(
    () =>
      selectPlatform(
        { schemaVersion: 2, manifests: [armv7] },
        { os: "linux", architecture: "arm", variant: "v6" },
        "r",
      ),
    {
      code: "PLATFORM",
    },
  );
});

test("no match lists the available platforms, without attestations", () => {
  assert.throws(
    () => selectPlatform(index, { os: "linux", architecture: "s390x" }, "nvcr.io/nvidia/x:1"),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "PLATFORM");
      assert.equal(
        err.message,
        "no image for linux/s390x in nvcr.io/nvidia/x:1; available: linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7, linux/ppc64le",
      );
      return true;
    },
  );
});

test("an index of one image without platform is that image", () => {
  const single = entry(undefined);
  assert.equal(
    selectPlatform({ schemaVersion: 2, manifests: [single] }, { os: "linux", architecture: "amd64" }, "r")
      .digest,
    single.digest,
  );
});

test("windows entries do not match linux", () => {
  const win = entry({ os: "windows", architecture: "amd64" });
  assert.throws(
    () => selectPlatform({ schemaVersion: 2, manifests: [win] }, { os: "linux", architecture: "amd64" }, "r"),
    /available: windows\/amd64/,
  );
});

test("normalizePlatform", () => {
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "armel" }), {
    os: "linux",
    architecture: "arm",
    variant: "v6",
  });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "i386" }), {
    os: "linux",
    architecture: "386",
    variant: "",
  });
});

test("an index of nested indexes only says so, instead of 'available: none'", () => {
  const nested = (n: number) => ({
    mediaType: "application/vnd.oci.image.index.v1+json",
    digest: `sha256:${String(n).repeat(64)}` as Digest,
    size: 100,
  });
  assert.throws(
    () =>
      selectPlatform(
        { schemaVersion: 2, manifests: [nested(1), nested(2)] },
        { os: "linux", architecture: "amd64" },
        "reg.io/a:1",
      ),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "PLATFORM");
      assert.equal(
        err.message,
        "the index of reg.io/a:1 holds only nested indexes (2), which are not followed; pull one of them by digest",
      );
      return true;
    },
  );
  assert.throws(
    () => selectPlatform({ schemaVersion: 2, manifests: [] }, { os: "linux", architecture: "amd64" }, "r"),
    /^Error: the index of r is empty$|the index of r is empty/,
  );
});
