/** `sregistry backend …` through the real CLI: the original's outputs, the fixed bugs, file safety. */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, runCli, type CliResult, runCliInProcess } from "../harness/cli.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { catalogStorage } from "../../src/catalog/catalog-storage.js";

let base: TmpDir;
let secrets: string;
let env: Record<string, string>;
const cli = (...args: string[]): Promise<CliResult> => runCliInProcess(["backend", ...args], env);
/** Through the real executable. */
const cliProcess = (...args: string[]): Promise<CliResult> =>
  runCli(["backend", ...args], { baseDir: base.path });
const catalogPath = () => join(env.SREGISTRY_DATABASE!, "sregistry.db");
/** The line `backend status` adds: the journal chosen for where the test catalog lives (a local disk). */
const catalogLine = () =>
  `${catalogPath()}, journal wal (local filesystem ${catalogStorage(catalogPath()).filesystem})`;
const content = () =>
  JSON.parse(readFileSync(secrets, "utf8")) as Record<string, Record<string, string> | string>;

before(async () => {
  base = await tmpDir("sregistry-cli-backend-");
  secrets = join(base.path, ".sregistry");
  env = isolatedEnv(base.path);
});
after(() => base.cleanup());

test("no words: usage on stdout, one ERROR line, exit 1", async () => {
  const result = await cliProcess();
  assert.equal(result.code, 1);
  assert.match(result.stdout, /^Usage:\n {2}sregistry backend ls/);
  assert.equal(result.stderr, "ERROR You must provide a valid command\n");
});

test("unknown word", async () => {
  const result = await cli("list");
  assert.deepEqual(result, { code: 1, stdout: "", stderr: "ERROR list is not a recognized command.\n" });
});

test("a missing secrets file: ls and status are empty, remove and delete are one ERROR line", async () => {
  assert.deepEqual(await cli("ls"), { code: 0, stdout: "Backends Installed\n", stderr: "" });
  assert.deepEqual(await cli("status"), {
    code: 0,
    stdout:
      "[backend status]\nThere are 0 clients found in secrets.\nThere is no active client.\n" +
      `catalog: ${catalogLine()}\n`,
    stderr: "",
  });
  const removed = await cli("remove", "nvidia", "token");
  assert.equal(removed.code, 1);
  assert.equal(
    removed.stderr,
    `ERROR there is no secrets file ${secrets} (set SREGISTRY_CLIENT_SECRETS to use another)\n`,
  );
  assert.equal((await cli("delete", "nvidia")).code, 1);
  assert.equal(existsSync(secrets), false);
});

test("add, --force, ls <name> masking, remove in lower case, status count, activate, delete", async () => {
  assert.deepEqual(await cliProcess("add", "nvidia", "token", "nvapi-SECRET-1"), {
    code: 0,
    stdout: "[add]\nSREGISTRY_NVIDIA_TOKEN ***\n",
    stderr: "",
  });
  assert.equal(statSync(secrets).mode & 0o777, 0o600);
  assert.deepEqual(await cli("add", "docker", "base", "127.0.0.1:5000"), {
    code: 0,
    stdout: "[add]\nSREGISTRY_DOCKERHUB_BASE 127.0.0.1:5000\n",
    stderr: "",
  });
  const again = await cli("add", "nvidia", "TOKEN", "other");
  assert.equal(again.code, 1);
  assert.equal(
    again.stderr,
    "ERROR SREGISTRY_NVIDIA_TOKEN is already set as ***. Use --force to override.\n",
  );
  assert.equal((content().nvidia as Record<string, string>).SREGISTRY_NVIDIA_TOKEN, "nvapi-SECRET-1");
  const forced = await cli("add", "nvidia", "token", "nvapi-SECRET-2", "--force", "--show-secrets");
  assert.equal(forced.stdout, "[add]\nSREGISTRY_NVIDIA_TOKEN nvapi-SECRET-2\n");

  assert.deepEqual(await cli("ls"), { code: 0, stdout: "Backends Installed\nnvidia\ndocker\n", stderr: "" });
  const shown = await cliProcess("ls", "nvidia");
  assert.equal(shown.stdout, 'nvidia\n{\n    "SREGISTRY_NVIDIA_TOKEN": "***"\n}\n');
  assert.ok(!shown.stdout.includes("SECRET-2"));
  const revealed = await cli("ls", "nvidia", "--show-secrets");
  assert.equal(revealed.stdout, 'nvidia\n{\n    "SREGISTRY_NVIDIA_TOKEN": "nvapi-SECRET-2"\n}\n');
  assert.deepEqual(JSON.parse((await cli("ls", "nvidia", "--json")).stdout), {
    SREGISTRY_NVIDIA_TOKEN: "***",
  });
  assert.deepEqual(await cli("ls", "hub"), {
    code: 0,
    stdout: "hub is not a known client.\nBackends Installed\nnvidia\ndocker\n",
    stderr: "",
  });

  assert.deepEqual(await cli("activate", "nvidia"), { code: 0, stdout: "[activate] nvidia\n", stderr: "" });
  assert.deepEqual(await cli("status"), {
    code: 0,
    stdout: `[backend status]\nThere are 2 clients found in secrets.\nactive: nvidia\ncatalog: ${catalogLine()}\n`,
    stderr: "",
  });
  assert.deepEqual(JSON.parse((await cli("status", "--json")).stdout), {
    count: 2,
    active: "nvidia",
    path: secrets,
    catalog: {
      backend: "sqlite",
      path: catalogPath(),
      journal: "wal",
      filesystem: catalogStorage(catalogPath()).filesystem,
    },
  });

  assert.deepEqual(await cli("remove", "nvidia", "token"), {
    code: 0,
    stdout: "[remove]\nSREGISTRY_NVIDIA_TOKEN\n",
    stderr: "",
  });
  assert.deepEqual(content().nvidia, {});
  const absent = await cli("rm", "nvidia", "token");
  assert.equal(absent.code, 0);
  assert.equal(absent.stderr, "WARNING SREGISTRY_NVIDIA_TOKEN was not set for nvidia\n");

  assert.deepEqual(await cli("delete", "nvidia"), { code: 0, stdout: "[delete] nvidia\n", stderr: "" });
  assert.deepEqual(
    content(),
    { docker: { SREGISTRY_DOCKERHUB_BASE: "127.0.0.1:5000" } },
    "active pointer gone too",
  );
  assert.deepEqual(await cli("delete", "nvidia"), {
    code: 0,
    stdout: "nvidia is not a known client.\n",
    stderr: "",
  });
  assert.deepEqual(await cli("delete"), {
    code: 0,
    stdout: "Please specify a backend to delete.\n",
    stderr: "",
  });
  assert.deepEqual(await cli("deactivate"), { code: 0, stdout: "There is no active client\n", stderr: "" });
  assert.equal(statSync(secrets).mode & 0o777, 0o600);
});

test("activate refuses an unknown client; a malformed secrets file is one ERROR line", async () => {
  const bad = await cli("activate", "nvdia");
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "ERROR nvdia is not a known client; use docker or nvidia\n");
  const s3 = await cli("activate", "s3");
  assert.deepEqual(
    [s3.code, s3.stderr],
    [1, "ERROR the s3 client is not available in this version; use docker or nvidia\n"],
  );
  const foo = await cli("add", "foo", "base", "x");
  assert.deepEqual([foo.code, foo.stdout], [1, ""]);
  assert.equal(foo.stderr, "ERROR foo is not a known client; use docker or nvidia\n");
  assert.equal(bad.stderr.split("\n").length, 2);
  const saved = readFileSync(secrets);
  writeFileSync(secrets, "{ not json");
  try {
    const result = await cli("ls");
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `ERROR the secrets file ${secrets} is not valid JSON; fix or remove it\n`);
  } finally {
    writeFileSync(secrets, saved);
  }
});

test("backend --help has an example", async () => {
  const help = await cli("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:\n {2}sregistry backend add nvidia token/);
});

test("status with a PostgreSQL catalog names server, database and TLS, never the password, without connecting", async () => {
  const url = "postgresql://ada:never-printed@127.0.0.1:1/cat?sslmode=require";
  const result = await runCliInProcess(["backend", "status"], { ...env, SREGISTRY_DATABASE: url });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /\ncatalog: postgresql:\/\/ada@127\.0\.0\.1:1\/cat\?sslmode=require, PostgreSQL at 127\.0\.0\.1:1, database cat, user ada \(pool of 3, TLS sslmode=require; writers serialised by an advisory lock\)\n$/,
  );
  assert.doesNotMatch(result.stdout + result.stderr, /never-printed/);
});
