/**
 * `npm run bench`: our pull against the peer pipeline, on the same machine, in the same run.
 *
 * Generates a ~600 MB, 15-layer image (mixed text and random data), serves it from a local
 * registry on 127.0.0.1, then times:
 *   1. our cold pull (empty cache and storage) → SIF;
 *   2. the pipeline Apptainer runs internally: `skopeo copy` to an OCI layout,
 *      `umoci unpack --rootless`, `mksquashfs` with gzip;
 *   3. our warm re-pull of the unchanged tag.
 * Prints wall times, ratios and peak memory. Sizes: BENCH_LAYERS (15), BENCH_LAYER_MB (40).
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../test/harness/tools.js";
import { startRegistry } from "../test/harness/registry-server.js";
import { generateImage } from "./generate.js";
import { measure, type Measurement } from "./measure.js";

const layers = Number(process.env.BENCH_LAYERS ?? 15);
const layerMb = Number(process.env.BENCH_LAYER_MB ?? 40);
const root = process.env.BENCH_DIR ?? join(tmpdir(), "sregistry-bench");
const cli = fileURLToPath(new URL("../src/cli/sregistry.cjs", import.meta.url));

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const secs = (m: Measurement) => `${m.seconds.toFixed(2)} s`;

async function main(): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  console.log(`generating ${layers} layers x ${layerMb} MB in ${root} ...`);
  const layout = join(root, "layout");
  const compressed = await generateImage(layout, { layers, bytesPerLayer: layerMb << 20 });
  const registry = await startRegistry({ auth: "anonymous" });
  try {
    await run("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      `oci:${layout}:bench`,
      `docker://${registry.host}/bench/image:1`,
    ]);
    console.log(`image: ${layers} layers, ${mb(compressed)} compressed, served at ${registry.host}\n`);

    const home = join(root, "home");
    const env = {
      ...process.env,
      HOME: home,
      SREGISTRY_CLIENT: "docker",
      SREGISTRY_DOCKERHUB_BASE: registry.host,
      SREGISTRY_DOCKERHUB_NOHTTPS: "true",
      SREGISTRY_CLIENT_SECRETS: join(home, ".sregistry"),
      SREGISTRY_DATABASE: join(home, ".singularity"),
      SREGISTRY_STORAGE: join(home, ".singularity", "shub"),
      SINGULARITY_CACHEDIR: join(home, ".singularity"),
    };
    await mkdir(join(home, ".singularity"), { recursive: true });
    const pullArgs = [cli, "--quiet", "pull", "bench/image:1"];
    // The cold pull runs with progress on (no terminal: one line per stage) to report its stages.
    const cold = await measure(process.execPath, [cli, "pull", "bench/image:1"], env);
    const stages = /Pulled in .*/.exec(cold.stderr)?.[0] ?? "";
    console.log(`sregistry cold pull: ${secs(cold)} — ${stages}`);
    const sif = /Success! (.+)/.exec(cold.stdout)?.[1]?.trim() ?? "";
    const sifSize = sif ? (await stat(sif)).size : 0;
    const warm = await measure(process.execPath, pullArgs, env);
    console.log(`sregistry warm re-pull: ${secs(warm)}`);

    const peer = join(root, "peer");
    await mkdir(peer, { recursive: true });
    const copy = await measure("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${registry.host}/bench/image:1`,
      `oci:${join(peer, "layout")}:bench`,
    ]);
    console.log(`peer skopeo copy: ${secs(copy)}`);
    const unpack = await measure("umoci", [
      "unpack",
      "--rootless",
      "--image",
      `${join(peer, "layout")}:bench`,
      join(peer, "bundle"),
    ]);
    console.log(`peer umoci unpack: ${secs(unpack)}`);
    const squash = await measure("mksquashfs", [
      join(peer, "bundle", "rootfs"),
      join(peer, "image.sqfs"),
      "-noappend",
      "-comp",
      "gzip",
      "-all-root",
      "-quiet",
    ]);
    console.log(`peer mksquashfs: ${secs(squash)}\n`);
    const peerSeconds = copy.seconds + unpack.seconds + squash.seconds;
    const peerSize = (await stat(join(peer, "image.sqfs"))).size;
    const peerPeak = Math.max(copy.peakTreeRssBytes, unpack.peakTreeRssBytes, squash.peakTreeRssBytes);

    console.log("| step | wall time | peak RSS (process) | peak RSS (with children) |");
    console.log("|---|---|---|---|");
    console.log(
      `| sregistry pull, cold | ${secs(cold)} | ${mb(cold.peakRssBytes)} | ${mb(cold.peakTreeRssBytes)} |`,
    );
    console.log(
      `| sregistry pull, warm | ${secs(warm)} | ${mb(warm.peakRssBytes)} | ${mb(warm.peakTreeRssBytes)} |`,
    );
    console.log(
      `| peer: skopeo copy | ${secs(copy)} | ${mb(copy.peakRssBytes)} | ${mb(copy.peakTreeRssBytes)} |`,
    );
    console.log(
      `| peer: umoci unpack --rootless | ${secs(unpack)} | ${mb(unpack.peakRssBytes)} | ${mb(unpack.peakTreeRssBytes)} |`,
    );
    console.log(
      `| peer: mksquashfs gzip | ${secs(squash)} | ${mb(squash.peakRssBytes)} | ${mb(squash.peakTreeRssBytes)} |`,
    );
    console.log(`| peer pipeline total | ${peerSeconds.toFixed(2)} s | | ${mb(peerPeak)} |`);
    console.log("");
    console.log(`cold pull / peer pipeline: ${(cold.seconds / peerSeconds).toFixed(2)}x (target <= 0.6x)`);
    console.log(`warm re-pull: ${warm.seconds.toFixed(2)} s (target < 1 s)`);
    console.log(`peak memory of sregistry: ${mb(cold.peakRssBytes)} (target < 250 MB)`);
    console.log(`output sizes: our SIF ${mb(sifSize)}, peer squashfs ${mb(peerSize)}`);
  } finally {
    await registry.stop();
    if (!process.env.BENCH_KEEP) await rm(root, { recursive: true, force: true });
  }
}

await main();
