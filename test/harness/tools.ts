/**
 * Small helpers for integration tests: run an external tool, make temp dirs, find free ports,
 * unpack with umoci, pull back with skopeo, and run a command as the unprivileged `nobody`.
 *
 * @example
 * ```ts
 * const tmp = await tmpDir("unpack-");
 * await skopeoCopyToOci(server, "library/app:1", join(tmp.path, "layout"));
 * await umociUnpack(join(tmp.path, "layout"), "latest", join(tmp.path, "bundle"), { rootless: true });
 * await tmp.cleanup();
 * ```
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
  /** Strings replaced by "***" in error messages (passwords, tokens). */
  secrets?: string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBuffer: Buffer;
}

/** Runs `cmd args`, captures its output, and rejects with the command, exit code and stderr on failure. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      const result = {
        code: code ?? 128,
        stdout: stdoutBuffer.toString(),
        stderr: Buffer.concat(err).toString(),
        stdoutBuffer,
      };
      if (result.code === 0 || opts.allowFailure) return resolve(result);
      const why = timedOut ? "timed out" : signal ? `killed by ${signal}` : `exit code ${result.code}`;
      const shown = hideSecrets(`${cmd} ${args.join(" ")}`, opts.secrets);
      const detail = hideSecrets(result.stderr.trim() || result.stdout.trim(), opts.secrets);
      reject(new Error(`${shown}: ${why}: ${detail.slice(-2000)}`));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

function hideSecrets(text: string, secrets: string[] = []): string {
  return secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join("***"), text);
}

export interface TmpDir {
  path: string;
  cleanup(): Promise<void>;
}

/** A fresh directory under os.tmpdir(); `cleanup()` removes it and everything in it. */
export async function tmpDir(prefix = "sregistry-test-"): Promise<TmpDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; a race is possible but rare). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Unpacks `layoutDir:tag` into an OCI runtime bundle at `outDir` (rootfs in `outDir/rootfs`). */
export async function umociUnpack(
  layoutDir: string,
  tag: string,
  outDir: string,
  options: { rootless?: boolean } = {},
): Promise<void> {
  const args = ["--log", "error", "unpack"];
  if (options.rootless) args.push("--rootless");
  args.push("--image", `${layoutDir}:${tag}`, outDir);
  await run("umoci", args);
}

/** What skopeo needs to talk to a test registry (structurally a `RegistryServer`). */
export interface SkopeoTarget {
  host: string;
  username?: string;
  password?: string;
}

/** skopeo arguments that give credentials for `server` (none for anonymous registries). */
export function credsArgs(flag: "--creds" | "--src-creds" | "--dest-creds", server: SkopeoTarget): string[] {
  return server.username !== undefined && server.password !== undefined
    ? [flag, `${server.username}:${server.password}`]
    : [];
}

/** Secrets of `server` to hide from error messages. */
export function serverSecrets(server: SkopeoTarget): string[] {
  return server.password ? [server.password] : [];
}

/** Pulls `HOST/repoTag` back into an OCI layout at `outLayoutDir`, tagged `tag` (default "latest"). */
export async function skopeoCopyToOci(
  server: SkopeoTarget,
  repoTag: string,
  outLayoutDir: string,
  options: { tag?: string; all?: boolean } = {},
): Promise<void> {
  const args = ["copy", "--quiet", "--src-tls-verify=false", ...credsArgs("--src-creds", server)];
  if (options.all) args.push("--all");
  args.push(`docker://${server.host}/${repoTag}`, `oci:${outLayoutDir}:${options.tag ?? "latest"}`);
  await run("skopeo", args, { secrets: serverSecrets(server) });
}

/** `skopeo inspect` (parsed JSON), or the raw manifest bytes with `raw: true`. */
export async function skopeoInspect(
  server: SkopeoTarget,
  repoRef: string,
  options: { raw?: boolean; config?: boolean } = {},
): Promise<RunResult> {
  const args = ["inspect", "--tls-verify=false", ...credsArgs("--creds", server)];
  if (options.raw) args.push("--raw");
  if (options.config) args.push("--config");
  args.push(`docker://${server.host}/${repoRef}`);
  return run("skopeo", args, { secrets: serverSecrets(server) });
}

/** Runs a command as user `nobody` (uid/gid 65534, no supplementary groups). */
export function runAsNobody(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", cmd, ...args], opts);
}
