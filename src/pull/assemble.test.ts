import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { tarLayer } from "../image/flatten/flatten.testing.js";
import { silentLogger } from "../util/log.js";
import { assembleEnrootSquashfs } from "./assemble-enroot.js";
import { assembleSif, type AssembleInput } from "./assemble.js";

const GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

function toolsWriting(path: string): string[] {
  const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
  return ps.split("\n").filter((line) => /tar2sqfs|sqfstar|mksquashfs/.test(line) && line.includes(path));
}

describe("assembleSif", () => {
  let dir: string;
  let input: Omit<AssembleInput, "out" | "layers">;
  let small: string;
  let large: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "assemble-test-"));
    small = join(dir, "small.tar.gz");
    large = join(dir, "large.tar.gz");
    await writeFile(
      small,
      gzipSync(
        await tarLayer([
          { name: "etc/", mode: 0o755 },
          { name: "etc/motd", body: "hi\n" },
        ]),
      ),
    );
    await writeFile(
      large,
      gzipSync(await tarLayer([{ name: "big.bin", body: randomBytes(48 << 20) }]), { level: 1 }),
    );
    input = {
      config: {
        architecture: "amd64",
        os: "linux",
        created: "2024-01-02T03:04:05Z",
        config: { Cmd: ["/bin/sh"] },
      },
      reference: "registry.example/org/app:1",
      manifestDigest: "sha256:" + "1".repeat(64),
      platform: { os: "linux", architecture: "amd64" },
      preferCmd: false,
      compression: "gzip",
      logger: silentLogger,
      buildKey: "k".repeat(64),
    };
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds byte-identical SIFs from the same input", async () => {
    const layers = [{ digest: "sha256:" + "a".repeat(64), mediaType: GZIP_LAYER, path: small }];
    const sums: string[] = [];
    for (const name of ["one.sif", "two.sif"]) {
      await assembleSif({ ...input, layers, out: join(dir, name) });
      sums.push(
        createHash("sha256")
          .update(await readFile(join(dir, name)))
          .digest("hex"),
      );
    }
    assert.equal(sums[0], sums[1]);
    const other = join(dir, "three.sif");
    await assembleSif({ ...input, layers, out: other, buildKey: "x".repeat(64) });
    assert.notEqual(
      createHash("sha256")
        .update(await readFile(other))
        .digest("hex"),
      sums[0],
      "the ID follows the key",
    );
  });

  // The time limit is only a hang guard: what is checked is the order of events (the abort lands
  // while the tool is reading, and the build stops before the layer's body has been read through).
  it("stops the squashfs tool and rejects with the abort reason", { timeout: 120_000 }, async () => {
    const out = join(dir, "aborted.sif");
    const abort = new AbortController();
    const reason = new Error("interrupted for the test");
    let tarBytes = 0;
    await assert.rejects(
      assembleSif({
        ...input,
        layers: [{ digest: "sha256:" + "b".repeat(64), mediaType: GZIP_LAYER, path: large }],
        out,
        signal: abort.signal,
        onBytes: (bytes) => {
          tarBytes += bytes;
          // 8 MiB in, the squashfs tool is running and reading (the tar pipe holds 1 MiB).
          if (tarBytes >= 8 << 20 && !abort.signal.aborted) abort.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.ok(abort.signal.aborted, "the abort came from inside the build");
    console.log(`# aborted build: ${tarBytes} tar bytes of a 48 MiB layer were produced`);
    assert.ok(tarBytes < 48 << 20, `the build stopped before the 48 MiB body was read (${tarBytes} bytes)`);
    assert.deepEqual(toolsWriting(dir), []);
    const head = existsSync(out) ? (await readFile(out)).subarray(32, 41).toString("latin1") : "";
    assert.notEqual(head, "SIF_MAGIC", "no SIF header is written after an abort");
  });

  it("native: stops reading the layers, closes the image file and rejects with the abort reason", async () => {
    const out = join(dir, "aborted-native.sif");
    const abort = new AbortController();
    const reason = new Error("interrupted for the test");
    setTimeout(() => abort.abort(reason), 400);
    await assert.rejects(
      assembleSif({
        ...input,
        builder: "native",
        layers: [{ digest: "sha256:" + "b".repeat(64), mediaType: GZIP_LAYER, path: large }],
        out,
        signal: abort.signal,
      }),
      (err) => err === reason,
    );
    const open = readdirSync("/proc/self/fd").map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    });
    assert.ok(!open.includes(out), "the image file is closed");
    const head = existsSync(out) ? (await readFile(out)).subarray(32, 41).toString("latin1") : "";
    assert.notEqual(head, "SIF_MAGIC", "no SIF header is written after an abort");
  });

  it("--format squashfs: the native writer gives tar2sqfs's all-root image", async (t) => {
    if (spawnSync("tar2sqfs", ["--version"]).error !== undefined) return t.skip("tar2sqfs is not installed");
    const owned = join(dir, "owned.tar.gz");
    await writeFile(
      owned,
      gzipSync(
        await tarLayer([
          { name: "home/", mode: 0o755, uid: 1000, gid: 1000 },
          { name: "home/user.txt", body: "mine\n", uid: 1000, gid: 1000 },
          { name: "home/user-link", type: "link", linkname: "home/user.txt", uid: 1000, gid: 1000 },
        ]),
      ),
    );
    const layers = [{ digest: "sha256:" + "c".repeat(64), mediaType: GZIP_LAYER, path: owned }];
    const native = join(dir, "native.sqsh");
    const reference = join(dir, "tar2sqfs.sqsh");
    const built = await assembleEnrootSquashfs({ ...input, layers, out: native, builder: "native" });
    assert.equal(built.tool, "native");
    await assembleEnrootSquashfs({ ...input, layers, out: reference, builder: "tar2sqfs" });
    const diff = spawnSync("sqfsdiff", ["--timestamps", "-a", reference, "-b", native], { encoding: "utf8" });
    assert.equal(diff.status, 0, diff.stdout + diff.stderr);
    const listing = spawnSync("unsquashfs", ["-lln", native], { encoding: "utf8" }).stdout;
    assert.match(listing, /-rw-r--r-- 0\/0 .* squashfs-root\/home\/user\.txt/);
    assert.doesNotMatch(listing, / 1000\/1000 /);
  });
});
