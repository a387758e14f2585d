/**
 * Docker credential helpers: `docker-credential-<name> get` with the server URL on stdin, answering
 * `{"ServerURL": ..., "Username": ..., "Secret": ...}`. A username of `<token>` means the secret is
 * an identity token. "credentials not found" is not an error (anonymous); a helper missing from
 * PATH is a clear `SregistryError` (code CREDENTIALS), raised only when it is actually consulted.
 *
 * @example
 * ```ts
 * const creds = await runCredentialHelper("pass", "nvcr.io");
 * ```
 */
import { spawn } from "node:child_process";
import { SregistryError } from "../util/errors.js";
import { registerCredentials, type Credentials } from "./credentials.js";

const TIMEOUT_MS = 30_000;

export async function runCredentialHelper(name: string, serverUrl: string): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new SregistryError(`invalid docker credential helper name "${name}"`, { code: "CREDENTIALS" });
  }
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr } = await run(program, serverUrl);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw new SregistryError(`${program} get failed for ${serverUrl} (exit ${code})`, {
      code: "CREDENTIALS",
    });
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(stdout) as typeof answer;
  } catch {
    throw new SregistryError(`${program} returned malformed output for ${serverUrl}`, {
      code: "CREDENTIALS",
    });
  }
  if (typeof answer.Secret !== "string" || answer.Secret === "") return undefined;
  const username = typeof answer.Username === "string" ? answer.Username : "";
  const creds: Credentials =
    username === "<token>"
      ? { username: "", password: "", identityToken: answer.Secret, source: program }
      : { username, password: answer.Secret, source: program };
  registerCredentials(creds);
  return creds;
}

function run(program: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ["get"], { stdio: ["pipe", "pipe", "pipe"] });
    // Our own timer (spawn's `timeout` option keeps the process alive when the spawn fails).
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    timer.unref();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === "ENOENT") {
        reject(
          new SregistryError(
            `docker credential helper ${program} not found on PATH (named in docker config.json)`,
            {
              code: "CREDENTIALS",
            },
          ),
        );
      } else reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.on("error", () => undefined); // helper exited before reading stdin
    child.stdin.end(input);
  });
}
