/**
 * `sregistry pull` through the whole CLI against the real registry, for every manifest and layer
 * format: the SIF is checked with `siftool`, its squashfs partition is extracted with
 * `unsquashfs -o <offset>` and compared file by file with `umoci unpack` of the same image
 * (copied back from the registry with skopeo): type, mode, owner, size, content, symlink targets,
 * device numbers, xattrs, mtimes and hardlink groups. Left out: `/.singularity.d`, the root
 * symlinks, the emptied /etc/hosts and /etc/resolv.conf, base directories the image lacks.
 *
 * Formats: OCI gzip, Docker schema 2, uncompressed, zstd, Docker schema 1, and a multi-platform
 * index (SREGISTRY_DOCKER_ARCHITECTURE picks the image; an unknown platform lists the ones there).
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-formats
 * ```
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { snapshotTree } from "../../src/image/flatten/flatten.testing.js";
import {
  dockerEnv,
  extractSifPartition,
  richImage,
  sifPartition,
  successPath,
  treeDifferences,
  umociSnapshot,
} from "../harness/pull.js";
import { runCli } from "../harness/cli.js";
import {
  MULTI_PLATFORMS,
  multiPlatformIndex,
  platformName,
  pushImage,
  type ManifestFormat,
} from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

const isRoot = process.getuid?.() === 0;

interface Case {
  tag: string;
  compression: "gzip" | "none" | "zstd";
  format?: ManifestFormat;
  /** Media type expected in the manifest the registry serves. */
  manifestType: string;
  /** Tag whose umoci unpack is the reference (umoci 0.4 cannot read zstd layers; same content). */
  reference?: string;
}

const CASES: Case[] = [
  { tag: "oci", compression: "gzip", manifestType: "application/vnd.oci.image.manifest.v1+json" },
  {
    tag: "v2s2",
    compression: "gzip",
    format: "v2s2",
    manifestType: "application/vnd.docker.distribution.manifest.v2+json",
  },
  { tag: "plain", compression: "none", manifestType: "application/vnd.oci.image.manifest.v1+json" },
  {
    tag: "zstd",
    compression: "zstd",
    manifestType: "application/vnd.oci.image.manifest.v1+json",
    reference: "plain",
  },
  {
    tag: "v2s1",
    compression: "gzip",
    format: "v2s1",
    manifestType: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  },
];

describe(
  "pull: formats vs umoci unpack",
  { skip: !isRoot && "needs root for umoci and device nodes" },
  () => {
    let server: RegistryServer;
    let tmp: TmpDir;

    before(async () => {
      server = await startRegistry({ auth: "anonymous", schema1: true });
      tmp = await tmpDir("pull-formats-");
      for (const c of CASES) {
        const pushed = await pushImage(
          server,
          `library/rich:${c.tag}`,
          richImage({ compression: c.compression }),
          c.format ? { format: c.format } : {},
        );
        assert.equal(pushed.mediaType, c.manifestType, c.tag);
      }
      await pushImage(server, "library/multi:1", multiPlatformIndex());
    });

    after(async () => {
      await server?.stop();
      await tmp?.cleanup();
    });

    for (const c of CASES) {
      it(`${c.tag}: the SIF holds the same tree as umoci's rootfs`, async () => {
        const work = join(tmp.path, c.tag);
        const result = await runCli(["pull", `docker://library/rich:${c.tag}`], {
          env: dockerEnv(server),
          baseDir: work,
        });
        assert.equal(result.code, 0, result.stderr);
        const sif = successPath(result.stdout);
        assert.match(result.stdout, /^\[container\]\[new\] library\/rich:\S+@[0-9a-f]{64}$/m);

        const { list } = await sifPartition(sif);
        assert.match(list, /Def\.FILE/);
        assert.equal((list.match(/JSON\.Generic/g) ?? []).length, 2);
        assert.match(list, /FS \(Squashfs\/\*System\/amd64\)/);
        const deffile = (await run("siftool", ["dump", "1", sif])).stdout;
        assert.match(deffile, new RegExp(`^bootstrap: docker\\s*\\nfrom: .*library/rich:${c.tag}`, "m"));

        const ours = snapshotTree(await extractSifPartition(sif, join(work, "sif-root")));
        const theirs = await umociSnapshot(
          server,
          `library/rich:${c.reference ?? c.tag}`,
          join(work, "umoci"),
        );
        assert.deepEqual(treeDifferences(ours, theirs), []);
        // The fixture really has what it claims, and the pull's own files are there.
        assert.equal(ours.get("bin/sh")?.mode, 0o4755);
        assert.equal(ours.get("d0000")?.mode, 0);
        assert.equal(ours.get("home/user/file")?.uid, 1000);
        assert.deepEqual(ours.get("dev/loop0")?.rdev, [7, 0]);
        assert.equal(ours.has("wh/a") || ours.has("opq/lower") || ours.has("hl/orig"), false);
        assert.equal(await readFile(join(work, "sif-root", "hl/cross"), "utf8"), "original body");
        assert.equal(ours.get("etc/hosts")?.size, 0, "/etc/hosts is emptied for bind mounts");
        assert.ok(
          ours.has(".singularity.d/runscript") &&
            ours.get("singularity")?.target === ".singularity.d/runscript",
        );
      });
    }

    it("a multi-platform index gives the image of SREGISTRY_DOCKER_ARCHITECTURE/VARIANT", async () => {
      for (const platform of [MULTI_PLATFORMS[1]!, MULTI_PLATFORMS[2]!]) {
        const work = join(tmp.path, `multi-${platform.architecture}-${platform.variant}`);
        const env = {
          ...dockerEnv(server),
          SREGISTRY_DOCKER_ARCHITECTURE: platform.architecture,
          SREGISTRY_DOCKER_VARIANT: platform.variant ?? "",
        };
        const result = await runCli(["pull", "docker://library/multi:1"], { env, baseDir: work });
        assert.equal(result.code, 0, result.stderr);
        const sif = successPath(result.stdout);
        const root = await extractSifPartition(sif, join(work, "root"));
        assert.equal(await readFile(join(root, "etc/platform"), "utf8"), platformName(platform) + "\n");
        assert.match(
          (await sifPartition(sif)).list,
          new RegExp(`Squashfs/\\*System/${platform.architecture}\\)`),
        );
      }
    });

    it("an unknown platform is a clear error listing the available ones", async () => {
      const env = { ...dockerEnv(server), SREGISTRY_DOCKER_ARCHITECTURE: "s390x" };
      const result = await runCli(["pull", "docker://library/multi:1"], { env });
      assert.notEqual(result.code, 0);
      const error = result.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
      assert.equal(error.length, 1, result.stderr);
      assert.match(error[0]!, /s390x/);
      for (const p of MULTI_PLATFORMS)
        assert.match(error[0]!, new RegExp(platformName(p).replace(/\//g, "\\/")));
    });
  },
);
