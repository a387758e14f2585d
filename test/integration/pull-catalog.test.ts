/**
 * `sregistry pull` and the catalog, storage and blob cache, through the whole CLI against the real
 * registry: the row (path `<storage>/<collection>/<name>/<tag>@<sha256>.sif`, version = sha256 of
 * the file, manifests in metrics), `get`, a re-pull answered from the manifest digest without any
 * blob request, `--force` rebuilding byte-identically, layers shared between images fetched once,
 * two processes pulling at once, `--name`, `--no-cache`, SREGISTRY_DISABLE,
 * SINGULARITY_DISABLE_CACHE, `--compression zstd` and `--sandbox`.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-catalog
 * ```
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { blobGets, dockerEnv, extractSifPartition, sifPartition, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, randomBytes, sampleImage, type PushResult } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";
import { containerRows, databaseEnv } from "../harness/catalog-backend.js";
import { isolatedEnv } from "../harness/cli.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

forEachBackend((backend) => {
  describe("pull: catalog, storage and cache", () => {
    let server: RegistryServer;
    let tmp: TmpDir;
    let base: string;
    let sample: PushResult;
    let race: PushResult;
    let env: Record<string, string>;
    let firstPath: string;
    let firstVersion: string;

    before(async () => {
      server = await startRegistry({ auth: "anonymous" });
      tmp = await tmpDir("pull-catalog-");
      base = join(tmp.path, "home");
      env = { ...dockerEnv(server), ...(await databaseEnv(backend)) };
      sample = await pushImage(server, "library/sample:1", sampleImage());
      const extended = sampleImage();
      extended.layers.push({ entries: [{ path: "opt/extra.txt", content: "third layer\n" }] });
      await pushImage(server, "library/sample2:1", extended);
      race = await pushImage(server, "library/race:1", {
        layers: [
          { entries: [{ path: "race/a.bin", content: randomBytes(3 << 20, "race-a") }] },
          { entries: [{ path: "race/b.bin", content: randomBytes(2 << 20, "race-b") }] },
        ],
      });
    });

    after(async () => {
      await server?.stop();
      await tmp?.cleanup();
    });

    /** The catalog's rows, read by sqlite3 or psql. */
    const rows = (home: string) => Promise.resolve(containerRows({ ...isolatedEnv(home), ...env }));

    it("stores the SIF under its sha256, records a row with the manifests, and `get` finds it", async () => {
      const result = await runCli(["pull", "docker://library/sample:1"], { env, baseDir: base });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n");
      assert.match(lines.at(-2)!, /^\[container\]\[new\] library\/sample:1@[0-9a-f]{64}$/);
      firstPath = successPath(result.stdout);
      assert.equal(lines.at(-1), `Success! ${firstPath}`);
      firstVersion = await sha256(firstPath);
      assert.equal(
        firstPath,
        join(base, ".singularity", "shub", "library", "sample", `1@${firstVersion}.sif`),
      );

      const [row, ...more] = await rows(base);
      assert.equal(more.length, 0);
      assert.equal(row!.version, firstVersion);
      assert.equal(row!.image, firstPath);
      assert.equal(row!.uri, `library/sample:1@${firstVersion}`);
      assert.equal(row!.client, "docker");
      assert.equal(row!.url, `http://${server.host}/v2/library/sample/manifests/1`);
      const metrics = JSON.parse(row!.metrics!) as Record<string, unknown>;
      assert.equal(metrics.digest, sample.manifestDigest);
      assert.equal(
        (metrics["2"] as { mediaType: string }).mediaType,
        "application/vnd.oci.image.manifest.v1+json",
      );
      assert.ok((metrics.config as { rootfs: unknown }).rootfs);
      assert.match(String(metrics.build), /^[0-9a-f]{64}$/);

      const get = await runCli(["get", "library/sample:1"], { env, baseDir: base });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout.trim().split("\n").at(-1), firstPath);
    });

    it("answers a re-pull of the unchanged tag from the catalog, without any blob request", async () => {
      const from = server.requests.length;
      const result = await runCli(["pull", "docker://library/sample:1"], { env, baseDir: base });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(successPath(result.stdout), firstPath);
      assert.match(result.stdout, /^\[container\]\[exists\] library\/sample:1@/m);
      assert.deepEqual(blobGets(server, from), []);
      const seen = server.requests.slice(from).map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(seen, ["GET /v2/library/sample/manifests/1"]);
      assert.equal((await rows(base)).length, 1);
    });

    it("--force rebuilds to the same bytes, from the cache", async () => {
      const before = await stat(firstPath);
      const from = server.requests.length;
      const result = await runCli(["pull", "--force", "docker://library/sample:1"], { env, baseDir: base });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(successPath(result.stdout), firstPath);
      assert.equal(await sha256(firstPath), firstVersion);
      assert.notEqual((await stat(firstPath)).ino, before.ino, "really rebuilt and renamed into place");
      const manifestGets = server.requests
        .slice(from)
        .filter((r) => r.method === "GET" && r.path === "/v2/library/sample/manifests/1");
      assert.equal(manifestGets.length, 1, "the tag's manifest is fetched once per pull");
      assert.deepEqual(
        blobGets(server, from).filter((p) => !p.includes(sample.layout.images[0]!.configDigest)),
        [],
      );
      assert.equal((await rows(base)).length, 1);
    });

    it("fetches only the layers it does not have when another image shares them", async () => {
      const from = server.requests.length;
      const result = await runCli(["pull", "docker://library/sample2:1"], { env, baseDir: base });
      assert.equal(result.code, 0, result.stderr);
      const shared = sample.layout.images[0]!.layers.map((l) => l.digest);
      const fetched = blobGets(server, from);
      assert.equal(fetched.length, 2, `config and the new layer only: ${fetched.join(", ")}`);
      for (const digest of shared) assert.ok(!fetched.some((p) => p.endsWith(digest)));
      const root = await extractSifPartition(successPath(result.stdout), join(tmp.path, "sample2-root"));
      assert.equal(await readFile(join(root, "opt/extra.txt"), "utf8"), "third layer\n");
      assert.equal(await readFile(join(root, "etc/motd"), "utf8"), "welcome to the sample image\n");
    });

    it("two processes pulling the same image at once fetch each blob once and agree", async () => {
      const from = server.requests.length;
      const [a, b] = await Promise.all([
        runCli(["pull", "docker://library/race:1"], { env, baseDir: base }),
        runCli(["pull", "docker://library/race:1"], { env, baseDir: base }),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(successPath(a.stdout), successPath(b.stdout));
      const gets = blobGets(server, from);
      for (const layer of race.layout.images[0]!.layers) {
        assert.equal(gets.filter((p) => p.endsWith(layer.digest)).length, 1, `one GET of ${layer.digest}`);
      }
      const raceRows = (await rows(base)).filter((r) => r.name === "race");
      assert.equal(raceRows.length, 1);
      assert.equal(raceRows[0]!.version, await sha256(successPath(a.stdout)));
      const blobs = join(base, ".singularity", "sregistry", "blobs", "sha256");
      for (const layer of race.layout.images[0]!.layers) {
        assert.equal(`sha256:${await sha256(join(blobs, layer.digest.slice(7)))}`, layer.digest);
      }
    });

    it("--name with the catalog stores the image and gives --name the same SIF", async () => {
      const named = join(tmp.path, "named.sif");
      const result = await runCli(["pull", "--force", "--name", named, "docker://library/sample:1"], {
        env,
        baseDir: base,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(successPath(result.stdout), named);
      assert.ok(existsSync(firstPath), "the stored image stays in storage");
      assert.equal(await sha256(named), firstVersion);
    });

    it("--name ./my.sif of an up-to-date image makes ./my.sif from the stored one", async () => {
      const cwd = join(tmp.path, "named-cwd");
      await mkdir(cwd);
      const from = server.requests.length;
      const result = await runCli(["pull", "--name", "./my.sif", "docker://library/sample:1"], {
        env,
        baseDir: base,
        cwd,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\[container\]\[exists\]/);
      assert.equal(blobGets(server, from).length, 0, "answered from the catalog");
      assert.equal(successPath(result.stdout), join(cwd, "my.sif"));
      assert.equal(await sha256(join(cwd, "my.sif")), firstVersion);
    });

    it("--no-cache leaves the same SIF in the working directory and records nothing", async () => {
      const cwd = join(tmp.path, "cwd");
      await mkdir(cwd);
      const before = await rows(base);
      const result = await runCli(["pull", "--no-cache", "docker://library/sample:1"], {
        env,
        baseDir: base,
        cwd,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(successPath(result.stdout), join(cwd, "sample:1.sif"));
      assert.equal(
        await sha256(join(cwd, "sample:1.sif")),
        firstVersion,
        "reproducible: same bytes as the stored one",
      );
      assert.deepEqual(await rows(base), before);
      assert.deepEqual(await readdir(cwd), ["sample:1.sif"]);
    });

    it("SREGISTRY_DISABLE keeps the file at --name and creates no database", async () => {
      const home = join(tmp.path, "disabled");
      const named = join(tmp.path, "out", "mine.sif");
      await mkdir(join(tmp.path, "out"));
      const result = await runCli(["pull", "--name", named, "docker://library/sample:1"], {
        env: { ...env, SREGISTRY_DISABLE: "true" },
        baseDir: home,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(successPath(result.stdout), named);
      assert.equal(await sha256(named), firstVersion);
      // SQLite: no database file; PostgreSQL: the (shared) catalog holds no row of this pull.
      assert.equal(existsSync(join(home, ".singularity", "sregistry.db")), false);
      assert.equal((await rows(home)).filter((r) => r.image === named).length, 0);
    });

    it("SINGULARITY_DISABLE_CACHE leaves no blob behind", async () => {
      const home = join(tmp.path, "nocache");
      const result = await runCli(["pull", "docker://library/sample:1"], {
        env: { ...env, SINGULARITY_DISABLE_CACHE: "true" },
        baseDir: home,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await sha256(successPath(result.stdout)), firstVersion);
      assert.deepEqual(await listFiles(join(home, ".singularity", "sregistry")), []);
      const leftovers = (await listFiles(join(home, "tmp"))).filter((name) => !name.startsWith("tsx-"));
      assert.deepEqual(leftovers, [], "the throw-away cache is gone");
    });

    it("--compression zstd builds a zstd squashfs, stored as another version", async () => {
      const result = await runCli(["pull", "--compression", "zstd", "docker://library/sample:1"], {
        env,
        baseDir: base,
      });
      assert.equal(result.code, 0, result.stderr);
      const path = successPath(result.stdout);
      assert.notEqual(path, firstPath);
      const { offset } = await sifPartition(path);
      const info = await run("unsquashfs", ["-s", "-o", String(offset), path]);
      assert.match(info.stdout, /Compression zstd/);
    });

    it("--sandbox writes a plain directory, refuses a non-empty one, and records nothing", async () => {
      const dir = join(tmp.path, "sandbox");
      const before = await rows(base);
      const result = await runCli(["pull", "--sandbox", dir, "docker://library/sample:1"], {
        env,
        baseDir: base,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(successPath(result.stdout), dir);
      assert.equal(await readFile(join(dir, "opt/app/hello.txt"), "utf8"), "hello from layer 2\n");
      assert.equal((await stat(join(dir, "opt/app/hello.txt"))).uid, 1000);
      assert.equal((await stat(join(dir, "var/empty"))).mode & 0o7777, 0o700);
      assert.ok((await stat(join(dir, ".singularity.d/runscript"))).isFile());
      assert.deepEqual(await rows(base), before);
      assert.deepEqual(
        (await readdir(tmp.path)).filter((n) => n.startsWith(".sregistry-build-")),
        [],
      );

      const full = join(tmp.path, "full");
      await mkdir(full);
      await writeFile(join(full, "keep"), "mine");
      const refused = await runCli(["pull", "--sandbox", full, "docker://library/sample:1"], {
        env,
        baseDir: base,
      });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /^ERROR --sandbox .* is not empty/m);
      assert.deepEqual(await readdir(full), ["keep"]);
    });
  });
});
