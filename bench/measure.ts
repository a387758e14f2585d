/**
 * Runs a command and measures its wall time and peak memory: the peak resident set of the
 * command's own process and of its whole process tree (children such as tar2sqfs included),
 * sampled from /proc every 25 ms. With `scratch`, also the peak disk space used under those
 * folders (allocated blocks, walked about every 100 ms; see disk.ts).
 *
 * @example
 * ```ts
 * const m = await measure("mksquashfs", ["rootfs", "out.sqfs", "-noappend"]);
 * console.log(m.seconds, m.peakRssBytes, m.peakTreeRssBytes);
 * ```
 */
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { diskUsage } from "./disk.js";

export interface Measurement {
  seconds: number;
  peakRssBytes: number;
  peakTreeRssBytes: number;
  /** Peak bytes allocated under `scratch` (0 without it). */
  peakScratchBytes: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (list) out.push(...list.split(/\s+/).map(Number));
    }
  } catch {
    // the process is gone
  }
  return out;
}

function treeRss(pid: number): number {
  return rssOf(pid) + childrenOf(pid).reduce((sum, child) => sum + treeRss(child), 0);
}

export interface MeasureOptions {
  /** Folders whose disk usage is sampled while the command runs. */
  scratch?: string[];
  /** Resolve with the exit code instead of rejecting when the command fails. */
  allowFailure?: boolean;
}

export function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: MeasureOptions = {},
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    let peakScratch = 0;
    let walking = false;
    const walk = async (): Promise<void> => {
      if (walking || !options.scratch) return;
      walking = true;
      try {
        const used = await diskUsage(options.scratch);
        peakScratch = Math.max(peakScratch, used);
      } finally {
        walking = false;
      }
    };
    const walker = options.scratch ? setInterval(() => void walk(), 100) : undefined;
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let peakRss = 0;
    let peakTree = 0;
    const sample = () => {
      if (child.pid === undefined) return;
      peakRss = Math.max(peakRss, rssOf(child.pid));
      peakTree = Math.max(peakTree, treeRss(child.pid));
    };
    const timer = setInterval(sample, 25);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", async (code) => {
      clearInterval(timer);
      clearInterval(walker);
      while (walking) await new Promise((r) => setTimeout(r, 10));
      await walk();
      const result = {
        seconds: (performance.now() - started) / 1000,
        peakRssBytes: peakRss,
        peakTreeRssBytes: peakTree,
        peakScratchBytes: peakScratch,
        exitCode: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (code !== 0 && !options.allowFailure)
        reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${result.stderr.slice(-1500)}`));
      else resolve(result);
    });
  });
}
