/**
 * `sregistry pull` against hostile registries and images, through the whole CLI:
 * - a blob whose bytes do not match its digest (corrupted by the registry front): a clear error,
 *   and nothing in the cache, storage or catalog;
 * - a blob body cut in the middle: resumed with a Range request for the rest;
 * - layers that try to escape the image (`../` and absolute names, a symlink to an outside
 *   directory then a write through it, a hardlink to an outside file): confined or refused, and
 *   nothing written outside the image, for a SIF and for a `--sandbox`;
 * - non-distributable ("foreign") layers: refused before any layer is fetched unless
 *   `--allow-foreign-layers`.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-hostile
 * ```
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { pack } from "tar-stream";
import { blobGets, dockerEnv, extractSifPartition, successPath } from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage, type PushResult } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

/**
 * Every path under `dir`, except the build directory itself: pulls share it and may leave it
 * empty; anything left inside it is still listed.
 */
async function listAll(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const all = (await readdir(dir, { recursive: true })).map(String).sort();
  return all.filter((name) => name !== ".sregistry-tmp");
}

/** A raw tar whose names are written exactly as given (absolute, `../`). */
function rawTar(
  entries: { name: string; type?: "file" | "symlink" | "link"; linkname?: string; body?: string }[],
) {
  return new Promise<Buffer>((resolve, reject) => {
    const tar = pack();
    const chunks: Buffer[] = [];
    tar.on("data", (c: unknown) => void chunks.push(c as Buffer));
    tar.on("end", () => resolve(Buffer.concat(chunks)));
    tar.on("error", reject);
    for (const e of entries) {
      const header = {
        name: e.name,
        type: e.type ?? ("file" as const),
        mode: 0o644,
        mtime: new Date(0),
        ...(e.linkname ? { linkname: e.linkname } : {}),
      };
      if (header.type === "file") tar.entry(header, Buffer.from(e.body ?? ""));
      else tar.entry(header);
    }
    tar.finalize();
  });
}

describe("pull: hostile registries and images", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;
  let sample: PushResult;
  let outside: string;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-hostile-");
    env = dockerEnv(server);
    outside = join(tmp.path, "outside");
    await mkdir(outside);
    sample = await pushImage(server, "library/sample:1", sampleImage());
    const escape = [
      {
        rawTar: await rawTar([
          { name: "../../../escape-dotdot", body: "dotdot" },
          { name: "/abs-file", body: "absolute" },
        ]),
      },
      { rawTar: await rawTar([{ name: "link", type: "symlink", linkname: outside }]) },
      { rawTar: await rawTar([{ name: "link/pwned", body: "written through a symlink" }]) },
    ];
    await pushImage(server, "library/escape:1", { layers: escape });
    const hardlink = [
      { rawTar: await rawTar([{ name: "etc-file", body: "inside" }]) },
      { rawTar: await rawTar([{ name: "hard", type: "link", linkname: "../../../../etc/passwd" }]) },
    ];
    await pushImage(server, "library/hardlink:1", { layers: hardlink });
  });

  after(async () => {
    server.intercept = undefined;
    await server?.stop();
    await tmp?.cleanup();
  });

  it("refuses a blob whose content does not match its digest and keeps nothing", async () => {
    const layer = sample.layout.images[0]!.layers[1]!;
    server.intercept = async (req, res) => {
      if (req.method !== "GET" || !req.url?.endsWith(`/blobs/${layer.digest}`)) return false;
      const body = Buffer.from(await (await server.adminFetch(req.url)).arrayBuffer());
      const middle = body.length >> 1;
      body[middle] = body[middle]! ^ 0xff;
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(body.length),
      });
      res.end(body);
      return true;
    };
    const base = join(tmp.path, "corrupt");
    try {
      const result = await runCli(["pull", "docker://library/sample:1"], { env, baseDir: base });
      assert.notEqual(result.code, 0);
      const errors = result.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
      assert.equal(errors.length, 1, result.stderr);
      assert.match(errors[0]!, new RegExp(layer.digest.slice(7, 19)));
      assert.match(errors[0]!, /digest/i);
    } finally {
      server.intercept = undefined;
    }
    const blobs = join(base, ".singularity", "sregistry", "blobs");
    assert.equal(existsSync(join(blobs, "sha256", layer.digest.slice(7))), false);
    assert.deepEqual(await listAll(join(blobs, "tmp")), []);
    assert.deepEqual(await listAll(join(base, ".singularity", "shub")), []);
    // The pull opened the catalog (to look for a reusable image) before the download failed.
    const db = join(base, ".singularity", "sregistry.db");
    assert.ok(existsSync(db), "the catalog exists");
    assert.equal((await run("sqlite3", [db, "SELECT count(*) FROM container"])).stdout.trim(), "0");
  });

  it("resumes a body cut in the middle with a Range request", async () => {
    const layer = sample.layout.images[0]!.layers[0]!;
    const ranges: string[] = [];
    let cut = false;
    server.intercept = async (req, res) => {
      if (req.method !== "GET" || !req.url?.endsWith(`/blobs/${layer.digest}`)) return false;
      if (cut) {
        ranges.push(String(req.headers.range ?? "none"));
        return false; // the registry serves the rest
      }
      cut = true;
      const body = Buffer.from(await (await server.adminFetch(req.url)).arrayBuffer());
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(body.length),
      });
      res.write(body.subarray(0, body.length >> 1));
      await sleep(200);
      res.destroy();
      return true;
    };
    const base = join(tmp.path, "resume");
    let result;
    try {
      result = await runCli(["pull", "docker://library/sample:1"], { env, baseDir: base });
    } finally {
      server.intercept = undefined;
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(ranges.length, 1, `one more request: ${ranges.join(", ")}`);
    assert.match(ranges[0]!, /^bytes=[1-9]\d*-$/);
    const root = await extractSifPartition(successPath(result.stdout), join(tmp.path, "resume-root"));
    assert.equal((await readFile(join(root, "usr/share/sample/data.bin"))).length, 64 * 1024);
  });

  it("confines layers that try to write outside the image (SIF)", async () => {
    const base = join(tmp.path, "escape-sif");
    const result = await runCli(["pull", "docker://library/escape:1"], { env, baseDir: base });
    assert.deepEqual(await readdir(outside), [], "nothing written through the symlink");
    assert.equal(existsSync(join(tmp.path, "escape-dotdot")), false);
    assert.equal(existsSync("/abs-file"), false);
    assert.equal(result.code, 0, result.stderr); // confined (umoci semantics), not refused
    const root = await extractSifPartition(successPath(result.stdout), join(tmp.path, "escape-root"));
    // umoci semantics: the symlink stays, the write through it lands inside the root.
    assert.equal(await readlink(join(root, "link")), outside);
    assert.equal(await readFile(join(root, outside, "pwned"), "utf8"), "written through a symlink");
    assert.equal(await readFile(join(root, "abs-file"), "utf8"), "absolute");
    assert.equal(await readFile(join(root, "escape-dotdot"), "utf8"), "dotdot");
  });

  it("refuses a hardlink to a file outside the image with a clear error", async () => {
    const base = join(tmp.path, "hardlink");
    const result = await runCli(["pull", "docker://library/hardlink:1"], { env, baseDir: base });
    assert.notEqual(result.code, 0);
    const errors = result.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0]!, /hardlink "hard" .*etc\/passwd/);
    assert.deepEqual(await listAll(join(base, ".singularity", "shub")), []);
  });

  it("confines the same layers for a --sandbox", async () => {
    const base = join(tmp.path, "escape-sandbox");
    const dir = join(tmp.path, "sandbox-out", "rootfs");
    const result = await runCli(["pull", "--sandbox", dir, "docker://library/escape:1"], {
      env,
      baseDir: base,
    });
    assert.deepEqual(await readdir(outside), []);
    assert.deepEqual(
      (await listAll(join(tmp.path, "sandbox-out"))).filter((n) => !n.startsWith("rootfs")),
      [],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readlink(join(dir, "link")), outside);
    assert.equal(await readFile(join(dir, outside, "pwned"), "utf8"), "written through a symlink");
  });

  it("refuses non-distributable layers before fetching any, unless allowed", async () => {
    const manifest = (await (
      await server.adminFetch("/v2/library/sample/manifests/1", {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      })
    ).json()) as { layers: { mediaType: string }[] };
    manifest.layers[1]!.mediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    const put = await server.adminFetch("/v2/library/sample/manifests/foreign", {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: JSON.stringify(manifest),
    });
    assert.equal(put.status, 201, await put.text());

    const base = join(tmp.path, "foreign");
    const from = server.requests.length;
    const refused = await runCli(["pull", "docker://library/sample:foreign"], { env, baseDir: base });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^ERROR .*non-distributable.*--allow-foreign-layers/m);
    const layerGets = blobGets(server, from).filter((p) =>
      sample.layout.images[0]!.layers.some((l) => p.endsWith(l.digest)),
    );
    assert.deepEqual(layerGets, []);

    const allowed = await runCli(["pull", "--allow-foreign-layers", "docker://library/sample:foreign"], {
      env,
      baseDir: base,
    });
    assert.equal(allowed.code, 0, allowed.stderr);
    const root = await extractSifPartition(successPath(allowed.stdout), join(tmp.path, "foreign-root"));
    assert.equal(await readFile(join(root, "etc/motd"), "utf8"), "welcome to the sample image\n");
  });
});
