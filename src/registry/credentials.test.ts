import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chainKeychains, staticKeychain, type Credentials } from "./credentials.js";
import { dockerConfigKeychain, defaultDockerConfigPath } from "./docker-config.js";
import { redact } from "../util/redact.js";

let dir: string;

/** The credentials without their `source` (checked separately). */
function secretsOf(creds: Credentials | undefined): Omit<Credentials, "source"> | undefined {
  if (!creds) return undefined;
  const { source: _source, ...rest } = creds;
  return rest;
}
let savedPath: string | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sregistry-creds-"));
  // A fake credential helper: logs its stdin to a file and answers per server URL.
  const helper = join(dir, "docker-credential-test");
  writeFileSync(
    helper,
    `#!/bin/sh
[ "$1" = get ] || exit 2
read server
echo "$server" >> "${dir}/helper.log"
case "$server" in
  nvcr.io) echo '{"ServerURL":"nvcr.io","Username":"$oauthtoken","Secret":"helper-key-123"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"hubuser","Secret":"hub-secret-456"}' ;;
  tok.io) echo '{"ServerURL":"tok.io","Username":"<token>","Secret":"identity-789"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  chmodSync(helper, 0o755);
  savedPath = process.env.PATH;
  process.env.PATH = `${dir}:${process.env.PATH}`;
});

after(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, config: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("auths: base64 auth, username/password, keys with scheme and path", async () => {
  const path = writeConfig("auths.json", {
    auths: {
      "https://nvcr.io/v1/": { auth: b64("$oauthtoken:nv-key:with:colons") },
      "127.0.0.1:5000": { username: "alice", password: "pw-alice" },
      "http://other.io": { auth: "" },
    },
  });
  const keychain = dockerConfigKeychain(path);
  assert.deepEqual(secretsOf(await keychain.resolve("nvcr.io")), {
    username: "$oauthtoken",
    password: "nv-key:with:colons",
  });
  assert.deepEqual(secretsOf(await keychain.resolve("127.0.0.1:5000")), {
    username: "alice",
    password: "pw-alice",
  });
  assert.equal((await keychain.resolve("nvcr.io"))?.source, `docker config ${path}`, "source for messages");
  assert.equal(await keychain.resolve("other.io"), undefined);
  assert.equal(await keychain.resolve("unknown.io"), undefined);
  assert.equal(redact("x nv-key:with:colons y"), "x *** y", "secrets are registered");
});

test("auths: Docker Hub under any alias; identitytoken kept", async () => {
  const path = writeConfig("hub.json", {
    auths: { "https://index.docker.io/v1/": { auth: b64("bob:hub-pw"), identitytoken: "idtok-1" } },
  });
  const keychain = dockerConfigKeychain(path);
  for (const name of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
    assert.deepEqual(secretsOf(await keychain.resolve(name)), {
      username: "bob",
      password: "hub-pw",
      identityToken: "idtok-1",
    });
  }
});

test("credHelpers per registry and credsStore as default", async () => {
  const path = writeConfig("helpers.json", {
    credHelpers: { "nvcr.io": "test" },
    credsStore: "test",
    auths: { "fallback.io": { auth: b64("f:fallback-pw") } },
  });
  const keychain = dockerConfigKeychain(path);
  assert.deepEqual(secretsOf(await keychain.resolve("nvcr.io")), {
    username: "$oauthtoken",
    password: "helper-key-123",
  });
  assert.deepEqual(secretsOf(await keychain.resolve("docker.io")), {
    username: "hubuser",
    password: "hub-secret-456",
  });
  assert.deepEqual(secretsOf(await keychain.resolve("tok.io")), {
    username: "",
    password: "",
    identityToken: "identity-789",
  });
  // the store has nothing for fallback.io: auths is used
  assert.deepEqual(secretsOf(await keychain.resolve("fallback.io")), {
    username: "f",
    password: "fallback-pw",
  });
  assert.equal((await keychain.resolve("nvcr.io"))?.source, "docker-credential-test");
  assert.match(redact("helper-key-123"), /\*\*\*/);
});

test("a missing helper is an error only when it is needed", async () => {
  const path = writeConfig("missing.json", {
    credHelpers: { "gcr.io": "nonexistent-helper" },
    auths: { "nvcr.io": { auth: b64("u:p-nv") } },
  });
  const keychain = dockerConfigKeychain(path);
  assert.deepEqual(secretsOf(await keychain.resolve("nvcr.io")), { username: "u", password: "p-nv" });
  await assert.rejects(keychain.resolve("gcr.io"), {
    code: "CREDENTIALS",
    message: /docker-credential-nonexistent-helper not found on PATH/,
  });
});

test("missing config file means no credentials; malformed JSON is a clear error", async () => {
  assert.equal(await dockerConfigKeychain(join(dir, "absent.json")).resolve("nvcr.io"), undefined);
  const bad = join(dir, "bad.json");
  writeFileSync(bad, "{not json");
  await assert.rejects(dockerConfigKeychain(bad).resolve("nvcr.io"), {
    code: "CREDENTIALS",
    message: /not valid JSON/,
  });
});

test("DOCKER_CONFIG decides the default path", () => {
  assert.equal(defaultDockerConfigPath({ DOCKER_CONFIG: "/etc/dc" }), "/etc/dc/config.json");
  assert.match(defaultDockerConfigPath({}), /\.docker\/config\.json$/);
});

test("chainKeychains: explicit first, docker config as fallback; empty static is anonymous", async () => {
  const path = writeConfig("chain.json", { auths: { "nvcr.io": { auth: b64("cfg:cfg-pw") } } });
  const explicit = chainKeychains(
    staticKeychain({ username: "$oauthtoken", password: "explicit-key" }),
    dockerConfigKeychain(path),
  );
  assert.equal((await explicit.resolve("nvcr.io"))?.password, "explicit-key");
  const fallback = chainKeychains(
    staticKeychain({ username: "$oauthtoken", password: "" }),
    dockerConfigKeychain(path),
  );
  assert.equal((await fallback.resolve("nvcr.io"))?.password, "cfg-pw");
  assert.equal(await chainKeychains(staticKeychain(undefined)).resolve("nvcr.io"), undefined);
});
