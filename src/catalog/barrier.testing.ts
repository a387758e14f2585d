/**
 * A start barrier for tests that race child processes: every child loads its modules, says
 * `ready` on stdout and waits for a line on stdin; the parent releases them all at once when every
 * child is ready. No clock is involved, so a slow start on a loaded machine cannot spread the
 * children apart (the same handshake as test/integration/commands-concurrency.test.ts).
 *
 * @example
 * ```ts
 * // parent
 * const results = await runTogether(CHILD, [["A"], ["B"]]);
 * // child
 * await waitForGo();
 * ```
 */
import { spawn } from "node:child_process";

export interface ChildResult {
  code: number | null;
  /** stdout after the `ready` line. */
  stdout: string;
  stderr: string;
}

/** Child side: report ready, then wait for the parent's `go`. */
export async function waitForGo(): Promise<void> {
  process.stdout.write("ready\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  process.stdin.destroy();
}

/** Parent side: start one child per argument list, release them together, collect their results. */
export async function runTogether(script: string, argLists: string[][]): Promise<ChildResult[]> {
  const children = argLists.map((args) => startChild(script, args));
  await Promise.all(children.map((child) => child.ready));
  for (const child of children) child.go();
  return Promise.all(children.map((child) => child.done));
}

function startChild(script: string, args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith("ready\n")) signalReady();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on("error", () => {}); // a child that died early closed its stdin
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      signalReady(); // a child that died before the barrier must not hold the others
      resolve({ code, stdout: stdout.replace(/^ready\n/, ""), stderr });
    });
  });
  return { ready, go: () => child.stdin.end("go\n"), done };
}
