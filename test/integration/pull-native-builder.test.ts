/**
 * The pull with the native squashfs writer and no squashfs tool at all: the CLI runs with a PATH
 * holding only `node`, so neither tar2sqfs, sqfstar nor mksquashfs can be found, and the SIF must
 * still build; it is then read back from this process with siftool and `unsquashfs -lln` and
 * compared with `umoci unpack`, for gzip, zstd and lz4. Also: lz4:hc (which only tar2sqfs does)
 * without tar2sqfs is one clear line, an external builder
 * asked for but missing too, and the builder is part of the build key (a tar2sqfs build of the same
 * image is another build, a second native pull is answered from the catalog).
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-native-builder
 * ```
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { snapshotTree } from "../../src/image/flatten/flatten.testing.js";
import { runCli } from "../harness/cli.js";
import { pushImage } from "../harness/fixtures.js";
import {
  dockerEnv,
  extractSifPartition,
  richImage,
  sifPartition,
  successPath,
  treeDifferences,
  umociSnapshot,
} from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

const isRoot = process.getuid?.() === 0;

describe(
  "pull: native builder with no squashfs tool on PATH",
  { skip: !isRoot && "needs root for umoci" },
  () => {
    let server: RegistryServer;
    let tmp: TmpDir;
    let bareEnv: Record<string, string>;

    before(async () => {
      server = await startRegistry({ auth: "anonymous" });
      tmp = await tmpDir("pull-native-");
      await pushImage(server, "library/rich:1", richImage());
      const bin = join(tmp.path, "bin");
      await mkdir(bin);
      await symlink(process.execPath, join(bin, "node"));
      bareEnv = { ...dockerEnv(server), PATH: bin };
      delete bareEnv.SREGISTRY_BUILDER;
    });

    after(async () => {
      await server?.stop();
      await tmp?.cleanup();
    });

    // Every compressor the native writer has in process: none of them may need a tool on PATH.
    for (const compression of ["gzip", "zstd", "lz4"]) {
      it(`builds a ${compression} SIF with nothing but node, and it matches umoci's rootfs`, async () => {
        const work = join(tmp.path, `bare-${compression}`);
        const flags = compression === "gzip" ? [] : ["--compression", compression];
        const result = await runCli(["pull", ...flags, "docker://library/rich:1"], {
          env: bareEnv,
          baseDir: work,
        });
        assert.equal(result.code, 0, result.stderr);
        const sif = successPath(result.stdout);
        const { offset, list } = await sifPartition(sif);
        assert.match(list, /FS \(Squashfs\/\*System\/amd64\)/);
        const superblock = (await run("unsquashfs", ["-s", "-o", String(offset), sif])).stdout;
        assert.match(superblock, new RegExp(`^Compression ${compression}$`, "m"));
        const listing = (await run("unsquashfs", ["-lln", "-o", String(offset), sif])).stdout;
        assert.match(listing, /-rwsr-xr-x 0\/0\s+\d+ \S+ \S+ squashfs-root\/bin\/sh\n/);
        assert.match(listing, /squashfs-root\/\.singularity\.d\/runscript/);
        const ours = snapshotTree(await extractSifPartition(sif, join(work, "root")));
        const theirs = await umociSnapshot(server, "library/rich:1", join(work, "umoci"));
        assert.deepEqual(treeDifferences(ours, theirs), []);
      });
    }

    it("lz4:hc (not in process) without tar2sqfs: one line saying what to install, before any download, nothing written", async () => {
      const work = join(tmp.path, "lz4hc");
      const before = server.requests.length;
      const result = await runCli(["pull", "--compression", "lz4:hc", "docker://library/rich:1"], {
        env: bareEnv,
        baseDir: work,
      });
      assert.notEqual(result.code, 0);
      const errors = result.stderr.split("\n").filter((line) => line.startsWith("ERROR"));
      assert.equal(errors.length, 1, result.stderr);
      assert.match(errors[0]!, /lz4:hc compression cannot be done in process here and needs tar2sqfs/);
      assert.equal(
        server.requests.slice(before).some((r) => r.path.includes("/blobs/")),
        false,
      );
      const storage = join(work, ".singularity", "shub");
      assert.deepEqual(existsSync(storage) ? readdirSync(storage, { recursive: true }) : [], []);
    });

    it("--builder tar2sqfs when it is missing is a clear error", async () => {
      const result = await runCli(["pull", "--builder", "tar2sqfs", "docker://library/rich:1"], {
        env: bareEnv,
        baseDir: join(tmp.path, "missing"),
      });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /tar2sqfs not found/);
    });

    it("the builder is part of the build key: native and tar2sqfs builds are not mixed up", async () => {
      const work = join(tmp.path, "key");
      const env = { ...dockerEnv(server), SREGISTRY_BUILDER: "native" };
      const first = await runCli(["pull", "docker://library/rich:1"], { env, baseDir: work });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /\[container\]\[new\]/);
      const again = await runCli(["pull", "docker://library/rich:1"], { env, baseDir: work });
      assert.match(again.stdout, /\[container\]\[exists\]/, again.stdout);
      const other = await runCli(["pull", "--builder", "tar2sqfs", "docker://library/rich:1"], {
        env,
        baseDir: work,
      });
      assert.equal(other.code, 0, other.stderr);
      assert.doesNotMatch(other.stdout, /\[container\]\[exists\]/, other.stdout);
    });
  },
);
