/**
 * The pull's build stage and its preflight, end to end with the CLI against the harness registry:
 * one build per image when two processes pull it at once, compression levels, targets checked
 * before any download (read-only storage, a directory as `--name`, over-long names, a storage
 * folder `nobody` cannot write), a full disk during the build named with its filesystem, and the
 * squashfs tool dying with a SIGKILLed parent, its temporaries cleaned by the next command.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-build-stage
 * ```
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { blobGets, dockerEnv, sifPartition, startCli, successPath } from "../harness/pull.js";
import { CLI_MAIN, isolatedEnv, runCli } from "../harness/cli.js";
import { pushImage, randomBytes, sampleImage, type PushResult } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";

const isRoot = process.getuid?.() === 0;

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("ERROR"));
}

/** Catalog writes of a build: `[container][new]` or `[container][update]` (a reuse says `[exists]`). */
function builds(stdout: string): number {
  return stdout.split("\n").filter((l) => /^\[container\]\[(new|update)\]/.test(l)).length;
}

async function squashfsTools(marker: string): Promise<string[]> {
  const ps = await run("ps", ["-eo", "pid,args"]);
  return ps.stdout.split("\n").filter((l) => /sqfstar|mksquashfs|tar2sqfs/.test(l) && l.includes(marker));
}

/** Running (not a zombie waiting for its reaper): /proc/<pid>/stat's state field. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]).status === 0;
}

describe("pull: build stage and preflight", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let env: Record<string, string>;
  let sample: PushResult;

  const mounts: string[] = [];

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-build-stage-");
    env = dockerEnv(server);
    sample = await pushImage(server, "library/sample:1", sampleImage());
    await pushImage(server, "library/big:1", {
      layers: [{ entries: [{ path: "big.bin", content: randomBytes(24 << 20, "big") }] }],
    });
  });

  after(async () => {
    server.intercept = undefined;
    for (const dir of mounts) spawnSync("umount", [dir]);
    await server?.stop();
    await tmp?.cleanup();
  });

  it("two processes pulling the same image: one builds, the other waits and reuses its SIF", async () => {
    const base = join(tmp.path, "lock");
    const slowLayer = sample.layout.images[0]!.layers.at(-1)!.digest;
    // The first pull's last layer is held back until the second pull says it is waiting.
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    server.intercept = async (req) => {
      if ((req.url ?? "").endsWith(slowLayer)) await gate;
      return false;
    };
    const from = server.requests.length;
    const first = startCli(["pull", "docker://library/sample:1"], env, base);
    let second: ReturnType<typeof startCli> | undefined;
    try {
      await first.waitFor(/Downloading/, 60_000);
      second = startCli(["pull", "docker://library/sample:1"], env, base);
      await second.waitFor(/waiting for it/, 60_000);
      open();
      const [a, b] = await Promise.all([first.done, second.done]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(builds(a.stdout) + builds(b.stdout), 1, `${a.stdout}\n${b.stdout}`);
      assert.match(b.stdout, /^\[container\]\[exists\]/m);
      assert.equal(successPath(a.stdout), successPath(b.stdout));
      const gets = blobGets(server, from).filter((p) => p.endsWith(slowLayer));
      assert.equal(gets.length, 1, "the waiting pull downloaded nothing");
    } finally {
      open();
      server.intercept = undefined;
      first.child.kill("SIGKILL");
      second?.child.kill("SIGKILL");
    }
  });

  it("compression levels: zstd:19 and lz4:hc reach the image, a level is a new build, bad ones fail first", async () => {
    const base = join(tmp.path, "levels");
    const plain = await runCli(["pull", "--compression", "zstd", "docker://library/sample:1"], {
      env,
      baseDir: base,
    });
    assert.equal(plain.code, 0, plain.stderr);
    const high = await runCli(["pull", "--compression", "zstd:19", "docker://library/sample:1"], {
      env,
      baseDir: base,
    });
    assert.equal(high.code, 0, high.stderr);
    assert.equal(builds(high.stdout), 1, "another level is another build");
    const levelOf = async (sif: string): Promise<string> => {
      const { offset } = await sifPartition(sif);
      return (await run("unsquashfs", ["-s", "-o", String(offset), sif])).stdout;
    };
    assert.match(await levelOf(successPath(plain.stdout)), /compression-level 3\b/);
    assert.match(await levelOf(successPath(high.stdout)), /compression-level 19\b/);
    const hc = await runCli(["pull", "--compression", "lz4:hc", "docker://library/sample:1"], {
      env,
      baseDir: base,
    });
    assert.equal(hc.code, 0, hc.stderr);
    assert.match(await levelOf(successPath(hc.stdout)), /High Compression/);

    for (const [value, message] of [
      ["zstd:30", /^ERROR --compression "zstd:30": the zstd level is 1 to 22 \(e\.g\. zstd:3\)$/],
      ["gzip:0", /^ERROR --compression "gzip:0": the gzip level is 1 to 9/],
      ["lz4:9", /^ERROR --compression "lz4:9": lz4 takes no level/],
      ["brotli", /^ERROR --compression "brotli": use one of gzip, zstd, lz4/],
    ] as const) {
      const from = server.requests.length;
      const bad = await runCli(["pull", "--compression", value, "docker://library/sample:1"], {
        env,
        baseDir: base,
      });
      assert.equal(bad.code, 1, bad.stderr);
      assert.equal(errorLines(bad.stderr).length, 1, bad.stderr);
      assert.match(errorLines(bad.stderr)[0]!, message);
      assert.equal(server.requests.length, from, "nothing was requested");
    }
  });

  it("a directory or an over-long name as --name fails before any request, naming the user's path", async () => {
    const base = join(tmp.path, "names");
    const dir = join(base, "adir");
    mkdirSync(dir, { recursive: true });
    const cases: [string[], RegExp][] = [
      [["--name", "adir"], /^ERROR --name adir is a directory; give a file name such as adir\/image\.sif$/],
      [["--no-cache", "--name", "adir"], /^ERROR --name adir is a directory/],
      [
        ["--name", `${"n".repeat(5000)}.sif`],
        /^ERROR --name n{40}….* \(5004 characters\): the path is longer than 4095 bytes$/,
      ],
      [
        ["--name", `${"n".repeat(300)}.sif`],
        /^ERROR --name n{40}….*: the name n{40}….* is longer than 255 bytes$/,
      ],
    ];
    for (const [flags, message] of cases) {
      const from = server.requests.length;
      const result = await runCli(["pull", ...flags, "docker://library/sample:1"], {
        env,
        baseDir: base,
        cwd: base,
      });
      assert.equal(result.code, 1, result.stderr);
      assert.deepEqual(errorLines(result.stderr).length, 1, result.stderr);
      assert.match(errorLines(result.stderr)[0]!, message);
      assert.equal(server.requests.length, from, "nothing was requested");
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it(
    "read-only storage fails before any request, naming the storage",
    { skip: !isRoot && "needs root to mount" },
    async (t) => {
      const storage = join(tmp.path, "readonly");
      if (!mountTmpfs(storage, "ro,size=1m")) return t.skip("tmpfs could not be mounted here");
      mounts.push(storage);
      const from = server.requests.length;
      const result = await runCli(["pull", "docker://library/sample:1"], {
        env: { ...env, SREGISTRY_STORAGE: storage },
        baseDir: join(tmp.path, "readonly-home"),
      });
      assert.equal(result.code, 1, result.stderr);
      assert.deepEqual(errorLines(result.stderr), [
        `ERROR cannot write to the image storage (SREGISTRY_STORAGE): ${storage}: it is on a read-only filesystem`,
      ]);
      assert.equal(server.requests.length, from);
    },
  );

  it("storage nobody cannot write fails before any request", { skip: !isRoot && "needs root" }, async () => {
    const base = join(tmp.path, "nobody");
    mkdirSync(join(base, ".singularity"), { recursive: true });
    mkdirSync(join(base, "tmp"), { recursive: true });
    const storage = join(base, "rootonly");
    mkdirSync(storage, { mode: 0o755 });
    chmodSync(tmp.path, 0o711); // nobody must get through to its folder
    chmodSync(base, 0o755);
    for (const dir of [join(base, ".singularity"), join(base, "tmp")]) chownSync(dir, 65534, 65534);
    const fullEnv = {
      PATH: process.env.PATH ?? "",
      ...isolatedEnv(base),
      ...env,
      SREGISTRY_STORAGE: storage,
    };
    const from = server.requests.length;
    const result = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      const argv = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath];
      const child = spawn(
        "setpriv",
        [...argv, "--import", import.meta.resolve("tsx"), CLI_MAIN, "pull", "docker://library/sample:1"],
        {
          cwd: base,
          env: fullEnv,
        },
      );
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? 128, stderr }));
    });
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(errorLines(result.stderr), [
      `ERROR cannot write to the image storage (SREGISTRY_STORAGE): ${storage}: permission denied`,
    ]);
    assert.equal(server.requests.length, from);
  });

  // zstd:19 with --builder tar2sqfs runs the tool; gzip:9 the native writer (its ENOSPC comes from
  // its own positioned writes).
  for (const compression of ["zstd:19", "gzip:9"]) {
    const builder = compression === "zstd:19" ? ["--builder", "tar2sqfs"] : [];
    it(
      `a disk that fills during a ${compression} build is named with what was needed`,
      { skip: !isRoot && "needs root to mount" },
      async (t) => {
        const storage = join(tmp.path, `fills-${compression.replace(":", "-")}`);
        if (!mountTmpfs(storage, "size=128m")) return t.skip("tmpfs could not be mounted here");
        mounts.push(storage);
        // The preflight passes (25 MB image, 134 MB free); once the build runs, something else
        // takes all the space, as another user's job would.
        const cli = startCli(
          ["pull", ...builder, "--compression", compression, "docker://library/big:1"],
          { ...env, SREGISTRY_STORAGE: storage },
          join(tmp.path, `fills-home-${compression.replace(":", "-")}`),
        );
        try {
          await cli.waitFor(/Building image/, 120_000);
          // Filled by writing until ENOSPC: the build writes meanwhile (the native writer from its
          // first pass on), so a fallocate of the free space seen a moment ago could fail.
          const filler = spawnSync("dd", ["if=/dev/zero", `of=${join(storage, "filler")}`, "bs=1M"]);
          assert.match(String(filler.stderr), /No space left on device/);
          const result = await cli.done;
          assert.equal(result.code, 1, result.stderr);
          const errors = errorLines(result.stderr);
          assert.equal(errors.length, 1, result.stderr);
          // "Free when it began" is sampled as the build starts; on a loaded machine the filler
          // may have run first, so any figure (0 B included) is right.
          assert.match(
            errors[0]!,
            new RegExp(
              `^ERROR no space left on the filesystem mounted at ${storage} while writing the image being built in ` +
                `${storage}/\\.sregistry-tmp: it needs about \\d+ MB \\([\\d.]+ [KMG]?B were free when it began, .+ now\\); `,
            ),
          );
          assert.deepEqual(
            readdirSync(join(storage, ".sregistry-tmp")).filter((n) => !n.endsWith(".lock")),
            [],
          );
        } finally {
          cli.child.kill("SIGKILL");
        }
      },
    );
  }

  it("a SIGKILLed pull takes its squashfs tool with it (8 times), and the next command cleans up", async () => {
    const base = join(tmp.path, "orphans");
    const buildDir = join(base, ".singularity", "shub", ".sregistry-tmp");
    const warm = await runCli(["pull", "--no-cache", "--name", "warm.sif", "docker://library/big:1"], {
      env,
      baseDir: base,
      timeoutMs: 120_000,
    });
    assert.equal(warm.code, 0, warm.stderr); // the layer is in the cache from here on
    const lingered: number[] = [];
    for (let round = 0; round < 8; round++) {
      const cli = startCli(
        ["pull", "--force", "--builder", "tar2sqfs", "--compression", "zstd:19", "docker://library/big:1"],
        env,
        base,
      );
      try {
        await cli.waitFor(/Building image/, 60_000);
        for (let i = 0; i < 300 && (await squashfsTools(buildDir)).length === 0; i++) await sleep(20);
        const pids = (await squashfsTools(buildDir)).map((line) => Number.parseInt(line.trim(), 10));
        assert.notDeepEqual(pids, [], "the tool is running");
        const killedAt = performance.now();
        cli.child.kill("SIGKILL");
        await cli.done; // the parent's death is observed first
        // Wait until the tool is gone; 60 s is a hang guard (a failure), not a timing claim.
        while (pids.some(isAlive) && performance.now() - killedAt < 60_000) await sleep(5);
        assert.ok(!pids.some(isAlive), "the tool died with its parent");
        lingered.push(Math.round(performance.now() - killedAt));
      } finally {
        cli.child.kill("SIGKILL");
      }
    }
    console.log(`# the tool outlived its parent by (ms): ${lingered.join(", ")}`);
    assert.equal(lingered.length, 8, "all 8 tools ended with their parent");
    assert.notDeepEqual(
      readdirSync(buildDir).filter((n) => !n.endsWith(".lock")),
      [],
      "killed builds left files",
    );
    const images = await runCli(["images"], { env, baseDir: base });
    assert.equal(images.code, 0, images.stderr);
    assert.deepEqual(
      readdirSync(buildDir).filter((n) => !n.includes(".lock")),
      [],
      "any command removes a dead process's temporaries",
    );
  });
});
