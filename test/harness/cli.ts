/**
 * Runs the sregistry CLI (`src/cli/main.ts` through tsx) in a child process with an isolated
 * environment: HOME, the secrets file, catalog, storage, cache and temp dirs all live in a temp
 * folder, and nothing of the caller's SREGISTRY_* / SINGULARITY_* / NGC_* variables leaks in.
 *
 * @example
 * ```ts
 * const base = await tmpDir("cli-");
 * const env = { ...isolatedEnv(base.path), SREGISTRY_CLIENT: "docker" };
 * const result = await runCli(["images"], { env });
 * assert.equal(result.code, 0, result.stderr);
 * await base.cleanup();
 * ```
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpDir } from "./tools.js";
import { runCli as runProgram } from "../../src/cli/program.js";

/** The repository root, found from this file's location (test/harness/ → ../../). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI_MAIN = join(REPO_ROOT, "src", "cli", "main.ts");
/** Resolved once here so the child finds tsx whatever its cwd. */
const TSX_LOADER = import.meta.resolve("tsx");

export interface CliOptions {
  /** Merged over the isolated environment (so it can override any of its paths). */
  env?: Record<string, string>;
  /** Default: the isolated base dir. */
  cwd?: string;
  /** Written to stdin, which is then closed (stdin is always closed). */
  input?: string;
  /** Default 180 s, a hang guard only (a loaded machine is slow); on timeout the child is killed and the promise rejects. */
  timeoutMs?: number;
  /** Base of the isolated environment; default a fresh temp dir removed after the run. */
  baseDir?: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Paths and variables for a CLI run confined to `baseDir` (the folders are created).
 * Matches the original's defaults relative to HOME: `~/.sregistry`, `~/.singularity`, `~/.singularity/shub`.
 */
export function isolatedEnv(baseDir: string): Record<string, string> {
  const singularity = join(baseDir, ".singularity");
  const tmp = join(baseDir, "tmp");
  mkdirSync(tmp, { recursive: true });
  return {
    HOME: baseDir,
    SREGISTRY_CLIENT_SECRETS: join(baseDir, ".sregistry"),
    SREGISTRY_DATABASE: singularity,
    SREGISTRY_STORAGE: join(singularity, "shub"),
    SINGULARITY_CACHEDIR: singularity,
    SREGISTRY_TMPDIR: tmp,
    TMPDIR: tmp,
  };
}

/**
 * The few variables of the caller that a CLI run keeps: no test-runner settings, and of sregistry's
 * only SREGISTRY_BUILDER, so a suite can be run with each squashfs builder.
 */
function baseEnv(): Record<string, string> {
  const kept: Record<string, string> = { LANG: "C.UTF-8", NO_COLOR: "1" };
  for (const name of ["PATH", "TZ", "LC_ALL", "SREGISTRY_BUILDER"]) {
    const value = process.env[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** Runs `sregistry ...args`; resolves with the exit code and output whatever the code. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runNodeScript(CLI_MAIN, args, options);
}

/** Runs any TypeScript/JavaScript file the way `runCli` runs the CLI (used to test the runner itself). */
export async function runNodeScript(
  script: string,
  args: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const own = options.baseDir ? undefined : await tmpDir("sregistry-cli-");
  const baseDir = options.baseDir ?? own!.path;
  try {
    const env = { ...baseEnv(), ...isolatedEnv(baseDir), ...options.env };
    return await spawnNode(["--import", TSX_LOADER, script, ...args], env, options.cwd ?? baseDir, options);
  } finally {
    await own?.cleanup();
  }
}

function spawnNode(argv: string[], env: Record<string, string>, cwd: string, options: CliOptions) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, env, stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timeoutMs = options.timeoutMs ?? 180_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (signal === "SIGKILL" && code === null) {
        return reject(
          new Error(`CLI timed out after ${timeoutMs} ms; stderr: ${result.stderr.slice(-2000)}`),
        );
      }
      resolve(result);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/**
 * The same program in this process (fast, no tsx start-up); `runCli` (a child process) proves the
 * real executable. `env` is used as given: pass `isolatedEnv(...)` merged with any settings.
 */
export async function runCliInProcess(args: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runProgram(args, {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
