// The seed page's session (record, record again, images, inspect, get) replayed with our CLI against
// a local NGC-like registry: the real distribution registry behind an nvcr.io-style token front
// (realm without `service`, Basic `$oauthtoken:<key>`), and every error path of the foundation issue.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../harness/cli.js";
import { multiPlatformIndex, pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { announcedDatabase, databaseEnv, sqlOutside } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

let registry: RegistryServer;
let home: TmpDir;

function nvidiaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SREGISTRY_CLIENT: "nvidia",
    SREGISTRY_NVIDIA_BASE: registry.host,
    SREGISTRY_NVIDIA_NOHTTPS: "true",
    SREGISTRY_NVIDIA_TOKEN: registry.password!,
    ...extra,
  };
}

function cli(args: string[], env: Record<string, string> = nvidiaEnv()) {
  return runCli(args, { env, baseDir: home.path });
}

before(async () => {
  registry = await startRegistry({ auth: "token", tokenTtlSeconds: 600 });
  home = await tmpDir("sregistry-session-");
  await pushImage(registry, "nvidia/caffe2:17.10", sampleImage());
  await pushImage(registry, "nvidia/multi:1.0", multiPlatformIndex());
});

after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

forEachBackend((backend) => {
  describe("the seed session against an NGC-like registry", () => {
    let session: TmpDir;
    let database: Record<string, string>;
    before(async () => {
      session = await tmpDir("sregistry-session-");
      database = { SREGISTRY_DATABASE: join(session.path, ".singularity"), ...(await databaseEnv(backend)) };
    });
    after(() => session?.cleanup());
    const cli = (args: string[]) =>
      runCli(args, { env: { ...nvidiaEnv(), ...database }, baseDir: session.path });
    const url = () => `http://${registry.host}/v2/nvidia/caffe2/manifests/17.10`;

    test("record caffe2:17.10 creates a remote row", async () => {
      const r = await cli(["record", "caffe2:17.10"]);
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        `[client|nvidia] [database|${announcedDatabase(database)}]\n[container][new] nvidia/caffe2:17.10\n`,
      );
    });

    test("recording it again updates the row", async () => {
      const r = await cli(["record", "caffe2:17.10"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /\n\[container\]\[update\] nvidia\/caffe2:17\.10\n$/);
    });

    test("images lists it in the original's format", async () => {
      const r = await cli(["images"]);
      assert.equal(r.code, 0);
      const [header, row, ...rest] = r.stdout.split("\n");
      assert.equal(header, "Containers:   [date]   [client]\t[uri]");
      assert.match(row!, /^1 {2}[A-Z][a-z]+ \d{2}, \d{4}\t {3}\[nvidia\]\tnvidia\/caffe2:17\.10$/);
      assert.deepEqual(rest, [""]);
    });

    test("inspect prints the URL, then the record with the manifests in metrics", async () => {
      const r = await cli(["inspect", "nvidia/caffe2:17.10"]);
      assert.equal(r.code, 0);
      const [first, ...json] = r.stdout.split("\n");
      assert.equal(first, url());
      const record = JSON.parse(json.join("\n")) as Record<string, unknown>;
      assert.deepEqual(Object.keys(record), [
        "client",
        "collection",
        "collection_id",
        "created_at",
        "id",
        "image",
        "metrics",
        "name",
        "tag",
        "uri",
        "url",
        "version",
      ]);
      assert.equal(record.client, "nvidia");
      assert.equal(record.image, null);
      assert.equal(record.version, "");
      assert.equal(record.uri, "nvidia/caffe2:17.10");
      assert.equal(record.url, url());
      const metrics = record.metrics as {
        "2": { selfLink: string; layers: unknown[] };
        digest: string;
        config: { config: { Entrypoint: string[] } };
      };
      assert.equal(metrics["2"].selfLink, url());
      assert.equal(metrics["2"].layers.length, 2);
      assert.match(metrics.digest, /^sha256:[a-f0-9]{64}$/);
      assert.deepEqual(metrics.config.config.Entrypoint, ["/bin/sh"]);
      // 4-space indentation and sorted keys, as Python's json.dumps(indent=4, sort_keys=True)
      assert.match(r.stdout, /\n {4}"client": "nvidia",\n/);
    });

    test("inspect --json prints only the JSON", async () => {
      const r = await cli(["inspect", "--json", "nvidia/caffe2:17.10"]);
      assert.equal(r.code, 0);
      assert.equal((JSON.parse(r.stdout) as { uri: string }).uri, "nvidia/caffe2:17.10");
    });

    test("get prints the manifest URL of a remote record", async () => {
      assert.deepEqual(await cli(["get", "nvidia/caffe2:17.10"]), {
        code: 0,
        stdout: url() + "\n",
        stderr: "",
      });
    });

    test("images --json is machine-readable", async () => {
      const r = await cli(["images", "--json", "caffe2"]);
      const rows = JSON.parse(r.stdout) as { uri: string; client: string }[];
      assert.deepEqual(
        rows.map((row) => [row.uri, row.client]),
        [["nvidia/caffe2:17.10", "nvidia"]],
      );
    });

    test("the API key went only to the token realm, never to the registry, and is stored 0600", async () => {
      const key = registry.password!;
      const basic = Buffer.from(`$oauthtoken:${key}`).toString("base64");
      for (const req of registry.requests) {
        if (req.authorization?.includes(basic)) assert.match(req.path, /^\/proxy_auth\?/);
        if (req.path.startsWith("/v2/")) assert.doesNotMatch(req.authorization ?? "", /^Basic/);
      }
      assert.ok(registry.requests.some((req) => req.path.startsWith("/proxy_auth") && req.authorization));
      assert.ok(!registry.requests.some((req) => req.path.includes("service=")), "no service was invented");
      const secrets = join(session.path, ".sregistry");
      assert.equal(statSync(secrets).mode & 0o777, 0o600);
      const catalog =
        backend.name === "sqlite"
          ? readFileSync(join(session.path, ".singularity", "sregistry.db"))
          : sqlOutside(database, "SELECT * FROM container; SELECT * FROM collection");
      assert.equal(catalog.includes(key), false, "the key is not in the catalog");
    });
  });
});

describe("record: platforms and errors", () => {
  before(async () => {
    // A good row first, so that the errors below can be seen to leave it alone.
    assert.equal((await cli(["--quiet", "record", "caffe2:17.10"])).code, 0);
  });

  test("a multi-platform index: SREGISTRY_DOCKER_ARCHITECTURE picks the manifest", async () => {
    const r = await cli(
      ["record", "--json", "multi:1.0"],
      nvidiaEnv({ SREGISTRY_DOCKER_ARCHITECTURE: "arm64" }),
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      row: { metrics: { platform: { architecture: string }; index?: unknown } };
    };
    const metrics = out.row.metrics;
    assert.equal(metrics.platform.architecture, "arm64");
    assert.ok(metrics.index, "the index is kept in metrics");
  });

  test("an unknown platform lists the available ones", async () => {
    const r = await cli(["record", "multi:1.0"], nvidiaEnv({ SREGISTRY_DOCKER_ARCHITECTURE: "s390x" }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR .*s390x.*linux\/amd64.*linux\/arm64/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  test("a wrong API key is a one-line authentication error, and nothing is recorded", async () => {
    const r = await cli(["record", "caffe2:17.10"], nvidiaEnv({ SREGISTRY_NVIDIA_TOKEN: "nvapi-wrong-key" }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR .*(auth|credential|token)/i);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.doesNotMatch(r.stderr + r.stdout, /nvapi-wrong-key/);
  });

  test("unknown repository and unknown tag are told apart", async () => {
    const repo = await cli(["record", "nothing-here:1"]);
    assert.equal(repo.code, 1);
    assert.match(repo.stderr, /^ERROR repository unknown/);
    const tag = await cli(["record", "caffe2:99.99"]);
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, /^ERROR manifest unknown/);
  });

  test("a malformed manifest is refused", async () => {
    registry.intercept = (req, res) => {
      if (!req.url?.includes("/manifests/")) return false;
      res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
      res.end('{"schemaVersion": 2, "layers": "not a list"}');
      return true;
    };
    try {
      const r = await cli(["record", "caffe2:17.10"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^ERROR /);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    } finally {
      registry.intercept = undefined;
    }
  });

  test("a manifest whose bytes do not match the requested digest is refused", async () => {
    const wrong = "sha256:" + "0".repeat(64);
    const r = await cli(["record", `caffe2@${wrong}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR /);
    registry.intercept = (req, res) => {
      if (!req.url?.includes(`/manifests/${wrong}`)) return false;
      res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
      res.end(
        JSON.stringify({ schemaVersion: 2, config: { mediaType: "x", digest: wrong, size: 1 }, layers: [] }),
      );
      return true;
    };
    try {
      const mismatch = await cli(["record", `caffe2@${wrong}`]);
      assert.equal(mismatch.code, 1);
      assert.match(mismatch.stderr, /digest/i);
    } finally {
      registry.intercept = undefined;
    }
  });

  test("an invalid digest never reaches the registry", async () => {
    const before = registry.requests.length;
    const r = await cli(["record", "caffe2@sha256:../../etc/passwd"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR .*digest/);
    assert.equal(registry.requests.length, before);
  });

  test("a registry that is down is a one-line network error", async () => {
    const r = await cli(["record", "caffe2:17.10"], nvidiaEnv({ SREGISTRY_NVIDIA_BASE: "127.0.0.1:9" }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR .*127\.0\.0\.1:9/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  test("no error left a row behind", async () => {
    const r = await cli(["images", "--json"]);
    const uris = (JSON.parse(r.stdout) as { uri: string }[]).map((row) => row.uri);
    assert.deepEqual(uris, ["nvidia/caffe2:17.10", "nvidia/multi:1.0"]);
  });
});
