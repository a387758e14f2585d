/**
 * A throw-away PostgreSQL server for tests: `initdb` and `postgres` from Debian's `postgresql`
 * package (/usr/lib/postgresql/<version>/bin), a data directory in a temp folder, listening on
 * 127.0.0.1 on a free port (and a socket in that folder), password authentication
 * (scram-sha-256) for the test role. Run as `nobody` when the tests run as root (PostgreSQL
 * refuses to run as root; the data directory is owned by that user). `stop()` shuts it down
 * (fast shutdown) and removes the folder.
 *
 * @example
 * ```ts
 * const server = await startPostgres();
 * const url = await server.createDatabase("t1"); // postgresql://sregistry_test:…@127.0.0.1:PORT/t1
 * await server.stop();
 * ```
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** URL of `database` with the test role's password. */
  url(database: string): string;
  /** Creates an empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const NOBODY = 65534;
const USER = "sregistry_test";

/** The newest installed server's bin folder, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "postgres")) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

function asUnprivileged(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", command, ...args]];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (Debian: apt-get install postgresql)");
  const dir = mkdtempSync(join(tmpdir(), "sregistry-pg-"));
  chmodSync(dir, 0o755);
  const data = join(dir, "data");
  const run = join(dir, "run");
  const password = randomBytes(12).toString("hex");
  const pwfile = join(dir, "pwfile");
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(run, { mode: 0o700 });
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) for (const path of [data, run, pwfile]) chownSync(path, NOBODY, NOBODY);
  const [initdb, initArgs] = asUnprivileged(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    USER,
    `--pwfile=${pwfile}`,
    "--auth=scram-sha-256",
    "-E",
    "UTF8",
    "--no-sync",
    "--locale=C",
  ]);
  execFileSync(initdb, initArgs, { stdio: "pipe", cwd: dir });
  rmSync(pwfile);
  const port = await freePort();
  const [postgres, args] = asUnprivileged(join(bin, "postgres"), [
    "-D",
    data,
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-k",
    run,
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=120",
  ]);
  const child = spawn(postgres, args, { stdio: ["ignore", "ignore", "pipe"], cwd: dir });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = (database: string): string => `postgresql://${USER}:${password}@127.0.0.1:${port}/${database}`;
  await waitReady(url("postgres"), child, () => log);
  return {
    host: "127.0.0.1",
    port,
    user: USER,
    password,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${log()}`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the server exits at once.
    child.kill("SIGINT");
  });
}
