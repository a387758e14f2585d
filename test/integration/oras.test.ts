/**
 * `push … oras://` and `pull oras://` against the real distribution registry (anonymous, and the
 * nvcr.io-like token front with pull-only anonymous access): the manifest checked byte by byte
 * against Apptainer's shape, a SIF round trip bit for bit, chunked upload and skip of existing
 * blobs, push without push rights, and artifacts that are not SIFs (plus Singularity < 3.7's
 * misspelled layer type, which is accepted).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Context } from "../../src/api/context.js";
import { pushOras } from "../../src/api/oras.js";
import { SIF_LAYER_MEDIA_TYPE_LEGACY } from "../../src/push/sif-artifact.js";
import { pushBlob, pushManifest } from "../../src/push/upload.js";
import { RegistryClient } from "../../src/registry/client.js";
import { isolatedEnv, runCli } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { dockerEnv, successPath } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let anon: RegistryServer;
let token: RegistryServer;
let base: TmpDir;
let sifPath: string;
let sifBytes: Buffer;

const sha256 = (data: Buffer) => "sha256:" + createHash("sha256").update(data).digest("hex");

/** A fresh isolated home for each command group, so catalogs do not mix. */
function home(name: string): string {
  const dir = join(base.path, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function cli(args: string[], dir: string, env: Record<string, string> = {}) {
  return runCli(args, { baseDir: dir, env: { SREGISTRY_ORAS_NOHTTPS: "yes", ...env } });
}

async function manifestBytes(server: RegistryServer, repo: string, tag: string): Promise<Buffer> {
  const res = await server.adminFetch(`/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
  assert.equal(res.status, 200, `manifest ${repo}:${tag}`);
  return Buffer.from(await res.arrayBuffer());
}

function client(server: RegistryServer): RegistryClient {
  return new RegistryClient({ registry: server.host, insecure: true });
}

/** An artifact with one layer of `mediaType` holding `content` (for the non-SIF and legacy cases). */
async function pushArtifact(repo: string, tag: string, mediaType: string, content: Buffer): Promise<void> {
  const c = client(anon);
  try {
    const config = Buffer.from("{}");
    for (const blob of [config, content]) {
      await pushBlob(c, repo, {
        digest: sha256(blob),
        size: blob.length,
        read: async (s, e) => blob.subarray(s, e),
      });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.sylabs.sif.config.v1+json", size: 2, digest: sha256(config) },
      layers: [{ mediaType, size: content.length, digest: sha256(content) }],
    };
    await pushManifest(c, repo, tag, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
  } finally {
    c.close();
  }
}

before(async () => {
  [anon, token] = await Promise.all([
    startRegistry({ auth: "anonymous" }),
    startRegistry({ auth: "token", anonymousPull: true }),
  ]);
  base = await tmpDir("sregistry-oras-");
  await pushImage(anon, "library/sample:1", sampleImage());
  const pulled = await runCli(["pull", "docker://sample:1"], {
    baseDir: home("builder"),
    env: dockerEnv(anon),
  });
  assert.equal(pulled.code, 0, pulled.stderr);
  sifPath = successPath(pulled.stdout);
  sifBytes = readFileSync(sifPath);
});

after(async () => {
  await Promise.all([anon?.stop(), token?.stop()]);
  await base?.cleanup();
});

describe("anonymous registry", () => {
  test("push of a catalog image writes Apptainer's manifest, byte for byte", async () => {
    const r = await cli(
      ["push", "library/sample:1", `oras://${anon.host}/site/sample:1`],
      home("builder"),
      dockerEnv(anon),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(
      r.stdout,
      new RegExp(`\\nSuccess! oras://${anon.host.replace(/\./g, "\\.")}/site/sample:1\\n$`),
    );
    const expected =
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
      '"config":{"mediaType":"application/vnd.sylabs.sif.config.v1+json","size":2,' +
      '"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","data":"e30="},' +
      `"layers":[{"mediaType":"application/vnd.sylabs.sif.layer.v1.sif","size":${sifBytes.length},` +
      `"digest":"${sha256(sifBytes)}","annotations":{"org.opencontainers.image.title":"sample_1.sif"}}],` +
      '"annotations":{"org.opencontainers.image.created":"2024-01-02T03:04:05Z"}}';
    assert.equal((await manifestBytes(anon, "site/sample", "1")).toString(), expected);
    const config = await anon.adminFetch(`/v2/site/sample/blobs/${sha256(Buffer.from("{}"))}`);
    assert.equal(await config.text(), "{}");
  });

  test("pull oras:// stores the SIF bit for bit and records it; a second pull reuses it", async () => {
    const dir = home("consumer");
    const r = await cli(["pull", `oras://${anon.host}/site/sample:1`], dir);
    assert.equal(r.code, 0, r.stderr);
    const path = successPath(r.stdout);
    assert.ok(readFileSync(path).equals(sifBytes), "the pulled SIF differs from the pushed one");
    const hex = sha256(sifBytes).slice("sha256:".length);
    assert.match(r.stdout, new RegExp(`\\[container\\]\\[new\\] site/sample:1@${hex}\\n`));
    const row = await cli(["inspect", "--json", `site/sample:1@${hex}`], dir);
    const parsed = JSON.parse(row.stdout) as { client: string; image: string };
    assert.equal(parsed.client, "oras");
    assert.equal(parsed.image, path);
    const again = await cli(["pull", `oras://${anon.host}/site/sample:1`], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\[container\]\[exists\]/);
    // Nothing but the stored SIF in its folder: no temporary left behind.
    assert.deepEqual(readdirSync(join(path, "..")), [basename(path)]);
  });

  test("chunked upload: PATCH per chunk; a blob the registry has is not sent again", async () => {
    const ctx = new Context({ env: { ...isolatedEnv(home("api")), SREGISTRY_ORAS_NOHTTPS: "yes" } });
    try {
      const from = anon.requests.length;
      const first = await pushOras(ctx, sifPath, `oras://${anon.host}/site/chunked:1`, {
        chunkSize: 64 * 1024,
      });
      assert.equal(first.uploaded, true);
      const patches = anon.requests.slice(from).filter((req) => req.method === "PATCH");
      assert.equal(patches.length, Math.ceil(sifBytes.length / (64 * 1024)));
      const mark = anon.requests.length;
      const second = await pushOras(ctx, sifPath, `oras://${anon.host}/site/chunked:2`, {
        chunkSize: 64 * 1024,
      });
      assert.equal(second.uploaded, false);
      assert.equal(second.manifestDigest, first.manifestDigest);
      const writes = anon.requests.slice(mark).filter((req) => req.method !== "HEAD" && req.method !== "GET");
      assert.deepEqual(
        writes.map((req) => req.method),
        ["PUT"],
        "only the manifest is written",
      );
    } finally {
      ctx.close();
    }
    const r = await cli(
      ["pull", "--name", "chunked.sif", `oras://${anon.host}/site/chunked:2`],
      home("chunked"),
      {
        SREGISTRY_DISABLE: "yes",
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(home("chunked"), "chunked.sif")).equals(sifBytes));
  });

  test("Singularity < 3.7's misspelled layer type is pulled", async () => {
    await pushArtifact("site/legacy", "1", SIF_LAYER_MEDIA_TYPE_LEGACY, sifBytes);
    const dir = home("legacy");
    const r = await cli(["pull", `oras://${anon.host}/site/legacy:1`], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(successPath(r.stdout)).equals(sifBytes));
  });

  test("artifacts that are not SIFs are refused in one line, nothing stored", async () => {
    await pushArtifact("site/other", "1", "application/vnd.oci.image.layer.v1.tar", Buffer.from("not a sif"));
    await pushArtifact("site/fake", "1", "application/vnd.sylabs.sif.layer.v1.sif", Buffer.alloc(8192, 1));
    const dir = home("refused");
    const cases: [string, string][] = [
      [`library/sample:1`, "it has 2 layers, a SIF artifact has one"],
      ["site/other:1", 'its layer is "application/vnd.oci.image.layer.v1.tar"'],
      ["site/fake:1", "its layer is not a SIF file"],
    ];
    for (const [ref, why] of cases) {
      const r = await cli(["--quiet", "pull", `oras://${anon.host}/${ref}`], dir);
      assert.equal(r.code, 1, ref);
      assert.equal(
        r.stderr,
        `ERROR oras://${anon.host}/${ref} is not a SIF artifact (${why}); pull container images with docker:// instead\n`,
      );
    }
    const storage = join(dir, ".singularity", "shub");
    const leftovers = existsSync(storage)
      ? readdirSync(storage, { recursive: true }).filter(
          (f) => String(f).endsWith(".sif") || String(f).includes("tmp"),
        )
      : [];
    assert.deepEqual(leftovers, []);
  });

  test("pull --push-to converts once and shares the SIF; a bad target fails before any download", async () => {
    const dir = home("push-to");
    const from = anon.requests.length;
    const bad = await cli(
      ["--quiet", "pull", "--push-to", "docker://elsewhere/x:1", "docker://sample:1"],
      dir,
      dockerEnv(anon),
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERROR expected an oras:\/\/ uri/);
    assert.equal(anon.requests.length, from, "no request before the target was checked");
    const target = `oras://${anon.host}/site/shared:1`;
    const r = await cli(["pull", "--push-to", target, "docker://sample:1"], dir, dockerEnv(anon));
    assert.equal(r.code, 0, r.stderr);
    const built = readFileSync(successPath(r.stdout));
    assert.match(r.stdout, /\[push\] oras:\/\/.*\/site\/shared:1 sha256:[0-9a-f]{64}/);
    assert.match(
      (await manifestBytes(anon, "site/shared", "1")).toString(),
      /"org\.opencontainers\.image\.title":"sample_1\.sif"/,
    );
    const back = await cli(["pull", target], home("push-to-consumer"));
    assert.equal(back.code, 0, back.stderr);
    assert.ok(readFileSync(successPath(back.stdout)).equals(built));
  });

  test("push of a file that is not a SIF is one clear error", async () => {
    const dir = home("notsif");
    const file = join(dir, "plain.sif");
    writeFileSync(file, "hello");
    const r = await cli(["--quiet", "push", file, `oras://${anon.host}/site/plain:1`], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR .*plain\.sif is not a SIF image, cannot push it to oras:\/\/ .*\n$/);
  });
});

describe("token registry (anonymous pulls allowed, pushes need the API key)", () => {
  test("push without push rights: one clear error and no tag", async () => {
    const dir = home("denied");
    const r = await cli(["--quiet", "push", sifPath, `oras://${token.host}/site/sample:1`], dir);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^ERROR ${token.host.replace(/\./g, "\\.")} refused to let these credentials push to site/sample \\(HTTP 401 while [^)]*\\); ` +
          "log in with an account that may write there .*\\n$",
      ),
    );
    const res = await token.adminFetch("/v2/site/sample/manifests/1", { headers: { accept: OCI_MANIFEST } });
    assert.equal(res.status, 404);
  });

  test("push with the key from enroot's credentials, anonymous pull back, bit for bit", async () => {
    const dir = home("token-push");
    const enroot = join(dir, "enroot");
    mkdirSync(enroot);
    writeFileSync(
      join(enroot, ".credentials"),
      `machine 127.0.0.1 login $oauthtoken password ${token.password!}\n`,
    );
    const pushed = await cli(["push", sifPath, `oras://${token.host}/site/sample:1`], dir, {
      ENROOT_CONFIG_PATH: enroot,
    });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.ok(
      token.requests.some((req) => req.path.startsWith("/proxy_auth") && req.path.includes("pull%2Cpush")),
      "a token with the push scope was asked for",
    );
    const pulled = await cli(["pull", `oras://${token.host}/site/sample:1`], home("token-pull"));
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(readFileSync(successPath(pulled.stdout)).equals(sifBytes));
  });
});

describe("Basic-auth registry", () => {
  test("push with Docker's config.json credentials, pull back with them, bit for bit", async () => {
    const basic = await startRegistry({ auth: "basic" });
    try {
      const dir = home("basic");
      const dockerDir = join(dir, "docker");
      mkdirSync(dockerDir);
      const auth = Buffer.from(`${basic.username!}:${basic.password!}`).toString("base64");
      writeFileSync(join(dockerDir, "config.json"), JSON.stringify({ auths: { [basic.host]: { auth } } }));
      const env = { DOCKER_CONFIG: dockerDir };
      const pushed = await cli(["push", sifPath, `oras://${basic.host}/site/basic:1`], dir, env);
      assert.equal(pushed.code, 0, pushed.stderr);
      const pulled = await cli(["pull", `oras://${basic.host}/site/basic:1`], dir, env);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.ok(readFileSync(successPath(pulled.stdout)).equals(sifBytes));
      const anonymous = await cli(
        ["--quiet", "push", sifPath, `oras://${basic.host}/site/basic:2`],
        home("basic-anon"),
      );
      assert.equal(anonymous.code, 1);
      assert.match(
        anonymous.stderr,
        /^ERROR .* refused to let these credentials push to site\/basic \(HTTP 401/,
      );
    } finally {
      await basic.stop();
    }
  });
});
