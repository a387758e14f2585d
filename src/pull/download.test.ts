import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Remote } from "./remote.js";
import type { Digest } from "../oci/digest.js";
import { BlobStore } from "../cache/blob-store.js";
import { statusError } from "../registry/errors.js";
import { MediaType, type Descriptor } from "../oci/types.js";
import { SregistryError } from "../util/errors.js";
import { LEVELS, Logger } from "../util/log.js";
import { checkForeignLayers, downloadLayers } from "./download.js";

const BLOB = Buffer.from("a foreign layer's bytes, pretending to be a tar.gz");
const DIGEST = `sha256:${createHash("sha256").update(BLOB).digest("hex")}` as Digest;

/**
 * A Remote whose registry only serves `openBlob` from memory and counts the calls; with `fail`, it
 * answers every call with that error instead (as the registry client does for a 404 or a reset).
 */
function fakeRemote(fail?: () => Error): { remote: Remote; registryCalls: number[] } {
  const registryCalls: number[] = [];
  const registry = {
    openBlob: (_repo: string, digest: string, options: { offset?: number } = {}) => {
      assert.equal(digest, DIGEST);
      registryCalls.push(options.offset ?? 0);
      if (fail) return Promise.reject(fail());
      return Promise.resolve({ body: Readable.from([BLOB]), status: 200, url: "http://reg.example/blob" });
    },
  };
  const remote = {
    clientName: "docker",
    backend: { insecure: true },
    reference: { registry: "reg.example", repository: "library/foreign" },
    registry,
    baseUrl: "http://reg.example/v2",
  } as unknown as Remote;
  return { remote, registryCalls };
}

function foreignLayer(urls?: string[]): Descriptor {
  return {
    mediaType: MediaType.DockerLayerForeign,
    digest: DIGEST,
    size: BLOB.length,
    ...(urls ? { urls } : {}),
  };
}

describe("downloadLayers with foreign layers", () => {
  let tmp: string;
  let server: Server;
  let base: string;
  let served = 0;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "sregistry-download-"));
    server = createServer((req, res) => {
      served++;
      if (req.url === "/layer.tar.gz") res.writeHead(200).end(BLOB);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await rm(tmp, { recursive: true, force: true });
  });

  async function download(
    layer: Descriptor,
    extra: Partial<Parameters<typeof downloadLayers>[0]> = {},
    registryFailure?: () => Error,
  ) {
    const store = new BlobStore(await mkdtemp(join(tmp, "store-")));
    const { remote, registryCalls } = fakeRemote(registryFailure);
    const lines: string[] = [];
    const logger = new Logger({ level: LEVELS.DEBUG, stderr: { write: (t: string) => lines.push(t) } });
    await downloadLayers({
      store,
      remote,
      layers: [layer],
      threads: 2,
      allowForeign: true,
      emit: () => {},
      logger,
      ...extra,
    });
    return { registryCalls, lines: lines.join(""), bytes: await readFile(store.path(DIGEST)) };
  }

  it("falls back to the registry when the layer's URLs are refused (loopback)", async () => {
    const before = served;
    const result = await download(foreignLayer([`${base}/layer.tar.gz`, "ftp://cdn.example/layer"]));
    assert.deepEqual(result.bytes, BLOB);
    assert.deepEqual(result.registryCalls, [0]);
    assert.equal(served, before, "the loopback URL must not be contacted");
    assert.match(result.lines, /127\.0\.0\.1 is not a global unicast address: loopback/);
    assert.match(result.lines, /served by the registry reg\.example\/library\/foreign/);
  });

  it("fetches from the layer's URL when it is usable, without asking the registry", async () => {
    const before = served;
    const result = await download(foreignLayer([`${base}/missing`, `${base}/layer.tar.gz`]), {
      foreignUrls: { allowLoopbackForTests: true },
    });
    assert.deepEqual(result.bytes, BLOB);
    assert.deepEqual(result.registryCalls, []);
    assert.equal(served, before + 2);
    assert.match(result.lines, new RegExp(`served by ${base}/layer\\.tar\\.gz`));
  });

  it("says why both the layer's URLs and the registry failed", async () => {
    const blobUnknown = () =>
      statusError(404, ["BLOB_UNKNOWN"], {
        registry: "reg.example",
        repo: "library/foreign",
        reference: DIGEST,
        what: "blob",
      });
    const before = served;
    const err = await download(
      foreignLayer([`${base}/missing?sig=secret`]),
      { foreignUrls: { allowLoopbackForTests: true } },
      blobUnknown,
    ).catch((e: unknown) => e);
    assert.ok(err instanceof SregistryError, String(err));
    assert.equal(err.code, "NOT_FOUND");
    assert.match(err.message, /^blob unknown: reg\.example\/library\/foreign@sha256:[0-9a-f]{64} /);
    assert.match(err.message, new RegExp(`foreign URLs failed: ${base}/missing: HTTP 404\\)$`));
    assert.doesNotMatch(err.message, /secret/);
    assert.equal(served, before + 1);
  });

  it("uses the registry for a foreign layer without URLs", async () => {
    const result = await download(foreignLayer());
    assert.deepEqual(result.bytes, BLOB);
    assert.deepEqual(result.registryCalls, [0]);
  });

  it("still refuses foreign layers unless allowed (the pipeline checks before fetching anything)", () => {
    const layer = foreignLayer([`${base}/layer.tar.gz`]);
    const err = (() => {
      try {
        checkForeignLayers([layer], false);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof SregistryError);
    assert.equal(err.code, "LAYER_FOREIGN");
    assert.doesNotThrow(() => checkForeignLayers([layer], true));
  });
});
