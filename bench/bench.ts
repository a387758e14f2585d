/**
 * `npm run bench`: our pull against the peer pipeline, on the same machine, in the same run.
 *
 * Two generated images (generate.ts), served by a local registry on 127.0.0.1:
 *   - big: 15 layers × 40 MiB, few big files (half random data) and 30,000 small ones;
 *   - many: 320,000 small files in 8 layers, the shape where per-file costs dominate.
 * For each, with BENCH_REPEATS cold pulls per row (empty cache and storage each time), rows in turn
 * so that a change of machine load touches them all alike:
 *   - our pull with the default settings, with `--compression gzip:9` (the peer's own output
 *     settings), with `--compression zstd` (its fast default level), and with `--builder tar2sqfs`;
 *   - the pipeline Apptainer runs internally: `skopeo copy` to an OCI layout, `umoci unpack
 *     --rootless`, `mksquashfs` with gzip (its default level, 9);
 *   - our warm re-pull of the unchanged tag, after each default cold pull.
 * Every row: wall time (median and range), ratio to the peer's median in the same run, peak RSS of
 * the process tree, peak scratch disk. Then start-up (`images`, `get`, `version` against
 * `node -e 0`, median of BENCH_STARTUP_RUNS) and the native writer alone at gzip levels 1–9 on
 * each image's flattened tar. Markdown to stdout and to bench/results/. Options: options.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LEVELS } from "../src/image/squashfs/compression.js";
import { startRegistry } from "../test/harness/registry-server.js";
import { run } from "../test/harness/tools.js";
import { writeFlatTar } from "./flat-tar.js";
import { generateImage, type GeneratedImage, type ImageShape } from "./generate.js";
import { measure, type Measurement } from "./measure.js";
import { benchOptions, type RowName } from "./options.js";
import { mb, median, spread } from "./stats.js";

const options = benchOptions(process.argv.slice(2), process.env);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { bin: Record<string, string> };
const cli = join(repo, pkg.bin.sregistry!);
const writerAlone = fileURLToPath(new URL("./writer-alone.js", import.meta.url));
const defaultGzip = `gzip-${DEFAULT_LEVELS.gzip}`;

const lines: string[] = [];
function say(line = ""): void {
  lines.push(line);
  console.log(line);
}
const note = (line: string): void => console.error(`# ${line}`);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");

interface BenchImage {
  name: "big" | "many";
  title: string;
  layout: string;
  info: GeneratedImage;
  ref: string;
}

interface Row {
  label: string;
  args: string[];
  /** Variables added to the pull's environment. */
  env?: NodeJS.ProcessEnv;
  target?: number;
  seconds: number[];
  rss: number;
  scratch: number;
  output: number;
  stages?: string;
  error?: string;
}

// ---------------------------------------------------------------- images

async function ensureImage(name: "big" | "many"): Promise<BenchImage> {
  const shape: ImageShape =
    name === "big"
      ? { shape: "big", layers: options.layers, bytesPerLayer: options.layerMb << 20 }
      : { shape: "many", layers: options.manyLayers, files: options.manyFiles };
  const key =
    name === "big"
      ? `big-v2-${options.layers}x${options.layerMb}`
      : `many-v2-${options.manyFiles}x${options.manyLayers}`;
  const layout = join(options.images, key);
  const stamp = join(layout, "generated.json");
  let info: GeneratedImage;
  if (existsSync(stamp)) {
    info = JSON.parse(await readFile(stamp, "utf8")) as GeneratedImage;
    note(`reusing ${layout}`);
  } else {
    note(`generating ${key} in ${layout} ...`);
    await rm(layout, { recursive: true, force: true });
    info = await generateImage(layout, shape);
    await writeFile(stamp, JSON.stringify(info));
  }
  const title =
    name === "big"
      ? `few big files: ${options.layers} layers, ${mb(info.tarBytes)} uncompressed, ${mb(info.compressedBytes)} compressed, ${info.files.toLocaleString("en")} files`
      : `many small files: ${options.manyLayers} layers, ${info.files.toLocaleString("en")} files, ${mb(info.tarBytes)} uncompressed, ${mb(info.compressedBytes)} compressed`;
  return { name, title, layout, info, ref: `bench/${name}:1` };
}

// ---------------------------------------------------------------- pulls

function pullEnv(home: string, registryHost: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: home,
    TMPDIR: join(home, "tmp"),
    SREGISTRY_CLIENT: "docker",
    SREGISTRY_DOCKERHUB_BASE: registryHost,
    SREGISTRY_DOCKERHUB_NOHTTPS: "true",
    SREGISTRY_CLIENT_SECRETS: join(home, ".sregistry"),
    SREGISTRY_DATABASE: join(home, ".singularity"),
    SREGISTRY_STORAGE: join(home, ".singularity", "shub"),
    SINGULARITY_CACHEDIR: join(home, ".singularity"),
  };
}

async function freshHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true });
  await mkdir(join(home, ".singularity"), { recursive: true });
  await mkdir(join(home, "tmp"), { recursive: true });
}

function lastLine(text: string): string {
  const shown = text.trim().split("\n").pop() ?? "";
  return shown.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

/** One cold pull into an empty home; the home is left for a warm re-pull. */
async function coldPull(row: Row, image: BenchImage, home: string, host: string): Promise<void> {
  await freshHome(home);
  const env = { ...pullEnv(home, host), ...row.env };
  const m = await measure(process.execPath, [cli, "pull", ...row.args, image.ref], env, {
    scratch: [home],
    allowFailure: true,
  });
  if (m.exitCode !== 0) {
    row.error = `exit ${m.exitCode}: ${lastLine(m.stderr)}`;
    note(`${image.name} ${row.label}: ${row.error}`);
    return;
  }
  const sif = /Success! (.+)/.exec(m.stdout)?.[1]?.trim() ?? "";
  row.seconds.push(m.seconds);
  row.rss = Math.max(row.rss, m.peakTreeRssBytes);
  row.scratch = Math.max(row.scratch, m.peakScratchBytes);
  row.output = sif ? (await stat(sif)).size : 0;
  row.stages ??= /Pulled in .*/.exec(m.stderr)?.[0];
  note(`${image.name} ${row.label}: ${m.seconds.toFixed(2)} s, load ${load()}`);
}

interface PeerRun {
  copy: Measurement;
  unpack: Measurement;
  squash: Measurement;
  scratch: number;
  output: number;
}

async function peerPipeline(image: BenchImage, dir: string, host: string): Promise<PeerRun> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const layout = `${join(dir, "layout")}:bench`;
  const copy = await measure("skopeo", [
    "copy",
    "--src-tls-verify=false",
    `docker://${host}/${image.ref}`,
    `oci:${layout}`,
  ]);
  const unpack = await measure("umoci", ["unpack", "--rootless", "--image", layout, join(dir, "bundle")]);
  const squashfs = join(dir, "image.sqfs");
  const squash = await measure("mksquashfs", [
    join(dir, "bundle", "rootfs"),
    squashfs,
    "-noappend",
    "-comp",
    "gzip",
    "-all-root",
    "-quiet",
  ]);
  // Nothing is deleted along the pipeline, so its peak scratch is what is left at the end.
  const du = spawnSync("du", ["-s", "--block-size=1", dir], { encoding: "utf8" });
  const scratch = Number(du.stdout.split(/\s/)[0] ?? 0);
  const output = (await stat(squashfs)).size;
  await rm(dir, { recursive: true, force: true });
  return { copy, unpack, squash, scratch, output };
}

function pullRows(image: BenchImage): Row[] {
  const big = image.name === "big";
  const rows: Record<Exclude<RowName, "peer">, Row> = {
    default: {
      label: `sregistry pull, default (native, ${defaultGzip})`,
      args: [],
      target: big ? 0.45 : 0.25,
      seconds: [],
      rss: 0,
      scratch: 0,
      output: 0,
    },
    nocache: {
      label: `sregistry pull, default, SINGULARITY_DISABLE_CACHE=yes (native, ${defaultGzip})`,
      args: [],
      env: { SINGULARITY_DISABLE_CACHE: "yes" },
      seconds: [],
      rss: 0,
      scratch: 0,
      output: 0,
    },
    gzip9: {
      label: "sregistry pull --compression gzip:9 (native)",
      args: ["--compression", "gzip:9"],
      target: 0.55,
      seconds: [],
      rss: 0,
      scratch: 0,
      output: 0,
    },
    zstd: {
      label: "sregistry pull --compression zstd",
      args: ["--compression", "zstd"],
      target: 0.2,
      seconds: [],
      rss: 0,
      scratch: 0,
      output: 0,
    },
    tar2sqfs: {
      label: `sregistry pull --builder tar2sqfs (${defaultGzip})`,
      args: ["--builder", "tar2sqfs"],
      seconds: [],
      rss: 0,
      scratch: 0,
      output: 0,
    },
  };
  return (["default", "nocache", "gzip9", "zstd", "tar2sqfs"] as const)
    .filter((name) => options.rows.has(name))
    .map((name) => rows[name]);
}

async function benchImage(image: BenchImage, host: string): Promise<Row[]> {
  const rows = pullRows(image);
  const repeats = options.repeats[image.name];
  const warm: Row = {
    label: "sregistry pull, warm re-pull",
    args: [],
    seconds: [],
    rss: 0,
    scratch: 0,
    output: 0,
  };
  const peer: PeerRun[] = [];
  const home = join(options.dir, "home");
  for (let rep = 0; rep < repeats; rep++) {
    note(`${image.name}: repeat ${rep + 1} of ${repeats}`);
    for (const row of rows) {
      if (row.error) continue;
      await coldPull(row, image, home, host);
      if (row.args.length === 0 && row.env === undefined && !row.error) {
        const m = await measure(process.execPath, [cli, "--quiet", "pull", image.ref], pullEnv(home, host));
        warm.seconds.push(m.seconds);
        warm.rss = Math.max(warm.rss, m.peakTreeRssBytes);
      }
      await rm(home, { recursive: true, force: true });
    }
    if (options.rows.has("peer")) {
      const p = await peerPipeline(image, join(options.dir, "peer"), host);
      peer.push(p);
      note(
        `${image.name} peer: ${(p.copy.seconds + p.unpack.seconds + p.squash.seconds).toFixed(2)} s, load ${load()}`,
      );
    }
  }
  printImage(image, rows, warm, peer);
  return rows;
}

function printImage(image: BenchImage, rows: Row[], warm: Row, peer: PeerRun[]): void {
  const peerTotals = peer.map((p) => p.copy.seconds + p.unpack.seconds + p.squash.seconds);
  const peerMedian = peerTotals.length > 0 ? median(peerTotals) : NaN;
  const ratio = (seconds: number[]): string =>
    seconds.length === 0 || Number.isNaN(peerMedian)
      ? "–"
      : `${(median(seconds) / peerMedian).toFixed(2)}× (${(Math.min(...seconds) / peerMedian).toFixed(2)}–${(Math.max(...seconds) / peerMedian).toFixed(2)})`;
  say(`### ${image.title}`);
  say();
  say(
    `Cold pulls: ${options.repeats[image.name]} per row; wall time median (min–max); ratio = row / peer median.`,
  );
  say();
  say("| | wall time | / peer | target | peak RSS (with children) | peak scratch disk | output |");
  say("|---|---|---|---|---|---|---|");
  for (const row of rows) {
    if (row.error && row.seconds.length === 0) {
      say(
        `| ${row.label} | failed: ${row.error.replace(/\|/g, "/")} | | ${row.target ? `≤ ${row.target}×` : ""} | | | |`,
      );
      continue;
    }
    say(
      `| ${row.label} | ${spread(row.seconds)} | ${ratio(row.seconds)} | ${row.target ? `≤ ${row.target}×` : ""} | ${mb(row.rss)} | ${mb(row.scratch)} | ${mb(row.output)} |`,
    );
  }
  if (warm.seconds.length > 0)
    say(`| ${warm.label} | ${spread(warm.seconds)} | | < 1 s | ${mb(warm.rss)} | | |`);
  if (peer.length > 0) {
    const step = (pick: (p: PeerRun) => Measurement) => spread(peer.map((p) => pick(p).seconds));
    const rss = Math.max(...peer.flatMap((p) => [p.copy, p.unpack, p.squash].map((m) => m.peakTreeRssBytes)));
    say(
      `| peer pipeline (skopeo copy ${step((p) => p.copy)} + umoci unpack ${step((p) => p.unpack)} + mksquashfs ${step((p) => p.squash)}) | ${spread(peerTotals)} | 1 | | ${mb(rss)} | ${mb(Math.max(...peer.map((p) => p.scratch)))} | ${mb(peer[0]!.output)} |`,
    );
  }
  say();
  const stages = rows.find((r) => r.stages)?.stages;
  if (stages) say(`Stages of the first default pull: ${stages}.`);
  say(
    `Largest layer ${mb(image.info.largestLayerBytes)}, all layers ${mb(image.info.compressedBytes)}. Our scratch disk: ` +
      "allocated blocks under the pull's HOME (layer cache, catalog, storage, TMPDIR), walked every 100 ms; " +
      "the peer's: `du` of its layout + bundle + squashfs at the end (it deletes nothing).",
  );
  say();
}

// ---------------------------------------------------------------- start-up

function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; code: number } {
  const started = performance.now();
  const result = spawnSync(cmd, args, { env, stdio: "ignore" });
  return { seconds: (performance.now() - started) / 1000, code: result.status ?? -1 };
}

async function startup(host: string | undefined, ref: string | undefined): Promise<void> {
  const empty = join(options.dir, "startup-empty");
  const recorded = join(options.dir, "startup-recorded");
  await freshHome(empty);
  await freshHome(recorded);
  let getNote = "";
  let getHome = recorded;
  if (host && ref) {
    const rec = await measure(process.execPath, [cli, "--quiet", "record", ref], pullEnv(recorded, host), {
      allowFailure: true,
    });
    if (rec.exitCode !== 0) {
      getNote = ` (record failed: ${lastLine(rec.stderr)}; get of a missing name)`;
      getHome = empty;
    }
  } else {
    getNote = " (no registry in this run: get of a missing name, exit 1)";
    getHome = empty;
  }
  const getRef = ref ?? "bench/none:1";
  const commands: { label: string; cmd: string; args: string[]; env: NodeJS.ProcessEnv }[] = [
    { label: "`node -e 0`", cmd: process.execPath, args: ["-e", "0"], env: process.env },
    {
      label: "`sregistry images` (empty catalog)",
      cmd: process.execPath,
      args: [cli, "images"],
      env: pullEnv(empty, host ?? "127.0.0.1:1"),
    },
    {
      label: `\`sregistry get ${getRef}\`${getNote}`,
      cmd: process.execPath,
      args: [cli, "get", getRef],
      env: pullEnv(getHome, host ?? "127.0.0.1:1"),
    },
    {
      label: "`sregistry version`",
      cmd: process.execPath,
      args: [cli, "version"],
      env: pullEnv(empty, host ?? "127.0.0.1:1"),
    },
  ];
  const times = commands.map(() => [] as number[]);
  const codes = commands.map(() => new Set<number>());
  for (const c of commands) timeRun(c.cmd, c.args, c.env); // warm the file cache
  for (let i = 0; i < options.startupRuns; i++) {
    commands.forEach((c, k) => {
      const r = timeRun(c.cmd, c.args, c.env);
      times[k]!.push(r.seconds);
      codes[k]!.add(r.code);
    });
  }
  const base = median(times[0]!);
  say(`### Start-up (${options.startupRuns} runs each, interleaved; median (min–max))`);
  say();
  say("| command | wall time | / `node -e 0` | target |");
  say("|---|---|---|---|");
  commands.forEach((c, k) => {
    const exit = [...codes[k]!].filter((code) => code !== 0);
    const failed = exit.length > 0 ? ` (exit ${exit.join(", ")})` : "";
    say(
      `| ${c.label}${failed} | ${spread(times[k]!, 3)} | ${k === 0 ? "1" : `${(median(times[k]!) / base).toFixed(2)}×`} | ${k === 0 ? "" : "≤ 2×"} |`,
    );
  });
  say();
  say(`Entry point: \`${pkg.bin.sregistry}\` (package.json \`bin\`).`);
  say();
}

// ---------------------------------------------------------------- gzip levels

async function levelTable(images: BenchImage[]): Promise<void> {
  const results = new Map<string, { seconds: number; cpuSeconds: number; bytes: number }>();
  for (const image of images) {
    const flat = join(options.dir, `${image.name}-flat.tar`);
    note(`${image.name}: flattening to ${flat}`);
    await writeFlatTar(image.layout, flat);
    const out = join(options.dir, "level.sqfs");
    const env = { ...process.env, UV_THREADPOOL_SIZE: String(Math.max(4, availableParallelism())) };
    for (const level of options.levels) {
      const m = await measure(process.execPath, [writerAlone, flat, `gzip:${level}`, out], env);
      const result = JSON.parse(m.stdout) as { seconds: number; cpuSeconds: number; bytes: number };
      results.set(`${image.name}:${level}`, result);
      note(
        `${image.name} gzip-${level}: ${result.seconds.toFixed(2)} s, CPU ${result.cpuSeconds.toFixed(2)} s, ${result.bytes} bytes, load ${load()}`,
      );
      await rm(out, { force: true });
    }
    await rm(flat, { force: true });
  }
  const refLevel = options.levels.includes(DEFAULT_LEVELS.gzip!) ? DEFAULT_LEVELS.gzip! : options.levels[0]!;
  say(`### gzip level: the native writer alone, from the flattened tar (one run per level)`);
  say();
  say(
    `CPU time (user + system, thread pool included: steadier than wall time on a loaded machine) ` +
      `and wall time; CPU relative to gzip-${refLevel}; size relative to the smallest image of the column. ` +
      images.map((i) => `${i.name}: ${i.title}`).join("; ") +
      ".",
  );
  say();
  const head = images.flatMap((i) => [`${i.name}: CPU`, `${i.name}: wall`, `${i.name}: size`]);
  say(`| level | ${head.join(" | ")} |`);
  say(`|---|${head.map(() => "---").join("|")}|`);
  for (const level of options.levels) {
    const cells = images.flatMap((image) => {
      const r = results.get(`${image.name}:${level}`)!;
      const ref = results.get(`${image.name}:${refLevel}`)!;
      const smallest = Math.min(...options.levels.map((l) => results.get(`${image.name}:${l}`)!.bytes));
      return [
        `${r.cpuSeconds.toFixed(1)} s (${(r.cpuSeconds / ref.cpuSeconds).toFixed(2)}×)`,
        `${r.seconds.toFixed(1)} s`,
        `${(r.bytes / 1e6).toFixed(1)} MB (+${((r.bytes / smallest - 1) * 100).toFixed(1)} %)`,
      ];
    });
    say(`| ${level}${level === DEFAULT_LEVELS.gzip ? " (default)" : ""} | ${cells.join(" | ")} |`);
  }
  say();
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error(`bench: ${cli} is missing: run \`npm run build\` first`);
  await rm(options.dir, { recursive: true, force: true });
  await mkdir(options.dir, { recursive: true });
  const started = new Date();
  const commit = spawnSync("git", ["-C", repo, "describe", "--always", "--dirty"], { encoding: "utf8" });
  const uptime = spawnSync("uptime", { encoding: "utf8" }).stdout.trim();
  const wanted = options.scenarios;
  const images: BenchImage[] = [];
  if (wanted.has("big") || wanted.has("levels") || wanted.has("startup"))
    images.push(await ensureImage("big"));
  if (wanted.has("many") || wanted.has("levels")) images.push(await ensureImage("many"));

  say(`## sregistry benchmark, ${started.toISOString()}`);
  say();
  say(
    `Commit ${commit.stdout.trim() || "?"}, Node ${process.version}, ${availableParallelism()} cores. ` +
      `Load at start: \`${uptime}\`.`,
  );
  say();

  const pulls = images.filter((i) => wanted.has(i.name));
  const needRegistry = pulls.length > 0 || wanted.has("startup");
  const registry = needRegistry ? await startRegistry({ auth: "anonymous" }) : undefined;
  try {
    if (registry) {
      for (const image of images) {
        if (!pulls.includes(image) && !(wanted.has("startup") && image.name === "big")) continue;
        await run("skopeo", [
          "copy",
          "--dest-tls-verify=false",
          `oci:${image.layout}:bench`,
          `docker://${registry.host}/${image.ref}`,
        ]);
      }
    }
    // Start-up first: it is short, and it should not wait behind the long pulls.
    if (wanted.has("startup")) {
      const big = images.find((i) => i.name === "big");
      await startup(registry?.host, big?.ref);
    }
    for (const image of pulls) await benchImage(image, registry!.host);
  } finally {
    await registry?.stop();
  }
  if (wanted.has("levels")) await levelTable(images);

  const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
  say(`Run took ${minutes} min. Load at end: ${load()} (1, 5, 15 min).`);
  const out =
    options.out ?? join(repo, "bench", "results", `${started.toISOString().replace(/[:.]/g, "-")}.md`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, lines.join("\n") + "\n");
  note(`results written to ${out}`);
  if (!options.keep) await rm(options.dir, { recursive: true, force: true });
}

await main();
