import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SregistryError } from "../util/errors.js";
import { Logger, LEVELS } from "../util/log.js";
import { redact } from "../util/redact.js";
import { staticKeychain } from "./credentials.js";
import { defaultEnrootCredentialsPath, enrootKeychain, loginKeychain } from "./enroot-credentials.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "enroot-creds-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture() {
  let stderr = "";
  const logger = new Logger({
    level: LEVELS.DEBUG,
    stdout: { write: () => true },
    stderr: { write: (text: string) => ((stderr += text), true) },
  });
  return { logger, stderr: () => stderr };
}

async function file(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join("\n") + "\n", { mode: 0o600 });
  return path;
}

test("the default path: $ENROOT_CONFIG_PATH, else $XDG_CONFIG_HOME/enroot, else ~/.config/enroot", () => {
  assert.equal(defaultEnrootCredentialsPath({ ENROOT_CONFIG_PATH: "/e", HOME: "/h" }), "/e/.credentials");
  assert.equal(defaultEnrootCredentialsPath({ XDG_CONFIG_HOME: "/x", HOME: "/h" }), "/x/enroot/.credentials");
  assert.equal(defaultEnrootCredentialsPath({ HOME: "/h" }), "/h/.config/enroot/.credentials");
});

test("machine = host without port; first entry wins; Docker Hub under any name; secrets registered", async () => {
  const path = await file("basic", [
    "machine nvcr.io login $oauthtoken password nvapi-first-7f3a",
    "machine nvcr.io login other password nvapi-second",
    "machine 127.0.0.1 login bob password pw-for-any-port",
    "machine registry-1.docker.io login alice password hub-pass-91",
  ]);
  const log = capture();
  const keychain = enrootKeychain({ path, env: {}, evaluate: false, logger: log.logger });
  assert.deepEqual(await keychain.resolve("nvcr.io"), {
    username: "$oauthtoken",
    password: "nvapi-first-7f3a",
  });
  assert.deepEqual(await keychain.resolve("127.0.0.1:5000"), {
    username: "bob",
    password: "pw-for-any-port",
  });
  assert.deepEqual(await keychain.resolve("index.docker.io"), { username: "alice", password: "hub-pass-91" });
  assert.equal(await keychain.resolve("ghcr.io"), undefined);
  assert.equal(redact("key nvapi-first-7f3a"), "key ***");
  const other = enrootKeychain({ path, env: {}, evaluate: false, logger: log.logger, login: "other" });
  assert.deepEqual(await other.resolve("nvcr.io"), { username: "other", password: "nvapi-second" });
  assert.equal(log.stderr(), "");
});

test("a missing file is no credentials and no warning", async () => {
  const log = capture();
  const keychain = enrootKeychain({
    path: join(dir, "absent"),
    env: {},
    evaluate: false,
    logger: log.logger,
  });
  assert.equal(await keychain.resolve("nvcr.io"), undefined);
  assert.equal(log.stderr(), "");
});

test("$NAME is read from the environment without a shell; unset is skipped with a warning", async () => {
  const path = await file("vars", [
    "machine a.io login x password $A_KEY",
    "machine b.io login y password ${B_KEY}",
    "machine b.io login z password fallback-b",
  ]);
  const log = capture();
  const keychain = enrootKeychain({
    path,
    env: { A_KEY: "from-env-a" },
    evaluate: false,
    logger: log.logger,
  });
  assert.deepEqual(await keychain.resolve("a.io"), { username: "x", password: "from-env-a" });
  assert.deepEqual(await keychain.resolve("b.io"), { username: "z", password: "fallback-b" });
  assert.equal(
    log.stderr(),
    `WARNING skipping line 2 of ${path} (machine b.io): its password $B_KEY is not set in the environment\n`,
  );
});

test("$(command) is never run without SREGISTRY_ENROOT_EVAL: the line is skipped and the warning says so", async () => {
  const marker = join(dir, "ran");
  const path = await file("cmd", [`machine c.io login x password $(touch ${marker}; echo nope)`]);
  const log = capture();
  const keychain = enrootKeychain({ path, env: process.env, evaluate: false, logger: log.logger });
  assert.equal(await keychain.resolve("c.io"), undefined);
  await assert.rejects(
    import("node:fs/promises").then((fs) => fs.stat(marker)),
    { code: "ENOENT" },
  );
  assert.equal(
    log.stderr(),
    `WARNING skipping line 1 of ${path} (machine c.io): its password is a shell command, ` +
      "which sregistry runs only with SREGISTRY_ENROOT_EVAL=yes\n",
  );
});

test("with the opt-in, $(command) runs once through /bin/sh like enroot's echo", async () => {
  const counter = join(dir, "count");
  const path = await file("eval", [
    `machine d.io login x password $(echo run >> ${counter}; printf 'tok-%s' 42)`,
  ]);
  const log = capture();
  const keychain = enrootKeychain({ path, env: process.env, evaluate: true, logger: log.logger });
  assert.deepEqual(await keychain.resolve("d.io"), { username: "x", password: "tok-42" });
  assert.deepEqual(await keychain.resolve("d.io"), { username: "x", password: "tok-42" });
  const { readFile } = await import("node:fs/promises");
  assert.equal(await readFile(counter, "utf8"), "run\n");
  const failing = await file("eval-fail", ["machine e.io login x password $(exit 3)"]);
  const log2 = capture();
  const bad = enrootKeychain({ path: failing, env: process.env, evaluate: true, logger: log2.logger });
  assert.equal(await bad.resolve("e.io"), undefined);
  assert.match(log2.stderr(), /skipping line 1 of .* password command printed nothing/);
});

test("bad lines are skipped with one warning each, by line number, never showing the line", async () => {
  const path = await file("bad", [
    "machine f.io login x",
    "machine f.io login x password top secret",
    "machine f.io login x password good-one",
  ]);
  const log = capture();
  const keychain = enrootKeychain({ path, env: {}, evaluate: false, logger: log.logger });
  assert.deepEqual(await keychain.resolve("f.io"), { username: "x", password: "good-one" });
  await keychain.resolve("f.io");
  const lines = log.stderr().trimEnd().split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^WARNING skipping line 1 of .*: not of the form/);
  assert.match(lines[1]!, /^WARNING skipping line 2 of .*: has more than one word/);
  assert.doesNotMatch(log.stderr(), /secret/);
});

test("loginKeychain: only credentials with USER's login; none is one clear error", async () => {
  const chain = [
    staticKeychain({ username: "$oauthtoken", password: "k1" }),
    staticKeychain({ username: "bob", password: "k2" }),
  ];
  assert.deepEqual(await loginKeychain(chain, "bob", "hint").resolve("nvcr.io"), {
    username: "bob",
    password: "k2",
  });
  await assert.rejects(
    loginKeychain(chain, "carol", "add it").resolve("nvcr.io"),
    (err: unknown) =>
      err instanceof SregistryError && err.message === "no credentials for user carol on nvcr.io: add it",
  );
});
