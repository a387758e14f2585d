/**
 * Finds the tar → squashfs tools on this machine and their versions.
 *
 * - `sqfstar` (squashfs-tools ≥ 4.5.1): reads a tar on stdin, builds the tree in memory, compresses
 *   with all cores.
 * - `mksquashfs - out -tar` does the same from squashfs-tools 4.6 on; in 4.5.x `-tar` does not exist,
 *   so it is only a fallback when `sqfstar` itself is missing.
 * - `tar2sqfs` (squashfs-tools-ng).
 *
 * @example
 * ```ts
 * const tools = detectSquashfsTools();
 * tools.sqfstar?.version; // "4.5.1"
 * ```
 */
import { spawnSync } from "node:child_process";

export interface ToolInfo {
  command: string;
  version: string;
}

export interface SquashfsTools {
  sqfstar?: ToolInfo;
  /** `mksquashfs` when it is ≥ 4.6 and so understands `-tar`. */
  mksquashfsTar?: ToolInfo;
  tar2sqfs?: ToolInfo;
}

let cached: SquashfsTools | undefined;

function versionOf(command: string, flag: string): string | undefined {
  const result = spawnSync(command, [flag], { encoding: "utf8" });
  if (result.error !== undefined) return undefined;
  const match = /(\d+\.\d+(?:\.\d+)?)/.exec(`${result.stdout ?? ""}\n${result.stderr ?? ""}`);
  return match?.[1] ?? "unknown";
}

/** Compares dotted versions numerically; true when `version` ≥ `minimum`. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(".").map(Number);
  const b = minimum.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Probes the tools once per process (pass `refresh` to probe again). */
export function detectSquashfsTools(refresh = false): SquashfsTools {
  if (cached !== undefined && !refresh) return cached;
  const tools: SquashfsTools = {};
  const sqfstar = versionOf("sqfstar", "-version");
  if (sqfstar !== undefined) tools.sqfstar = { command: "sqfstar", version: sqfstar };
  const mksquashfs = versionOf("mksquashfs", "-version");
  if (mksquashfs !== undefined && versionAtLeast(mksquashfs, "4.6")) {
    tools.mksquashfsTar = { command: "mksquashfs", version: mksquashfs };
  }
  const tar2sqfs = versionOf("tar2sqfs", "--version");
  if (tar2sqfs !== undefined) tools.tar2sqfs = { command: "tar2sqfs", version: tar2sqfs };
  cached = tools;
  return tools;
}

let deathSignalWrapper: string[] | null | undefined;

/**
 * A command prefix that makes the tool die with its parent: `setpriv --pdeathsig KILL --`
 * (util-linux ≥ 2.33 sets prctl(PR_SET_PDEATHSIG), which survives the exec of the tool). Node
 * cannot call prctl itself, and a closed stdin is not enough: a tool still compressing what it
 * has read keeps running for seconds after a SIGKILLed parent. Empty when setpriv lacks it.
 *
 * @example
 * ```ts
 * spawn(...[...dieWithParent(), "tar2sqfs", ...args]);
 * ```
 */
export function dieWithParent(): string[] {
  if (deathSignalWrapper === undefined) {
    const help = spawnSync("setpriv", ["--help"], { encoding: "utf8" });
    deathSignalWrapper =
      help.error === undefined && /--pdeathsig/.test(help.stdout ?? "")
        ? ["setpriv", "--pdeathsig", "KILL", "--"]
        : null;
  }
  return deathSignalWrapper ?? [];
}
