import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SregistryError } from "../util/errors.js";
import { redact } from "../util/redact.js";
import {
  backendSettings,
  clientConfigured,
  parseBase,
  persistBackendSecrets,
  resolveClientName,
  resolveRegistryClient,
} from "./backend.js";
import { readSecrets, writeSecrets, type SecretsFile } from "./secrets.js";
import { loadSettings } from "./settings.js";

const dir = mkdtempSync(join(tmpdir(), "sregistry-backend-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const home = dir;
const settingsFor = (env: NodeJS.ProcessEnv = {}, secrets: SecretsFile = {}) =>
  loadSettings(env, { home, secrets });
const TOKEN = "nvapi-test-token-0123456789";

test("resolveClientName: scheme wins, is stripped and normalised", () => {
  const settings = settingsFor({ SREGISTRY_CLIENT: "docker" });
  assert.deepEqual(resolveClientName("nvidia://tensorflow:17.11", settings), {
    client: "nvidia",
    image: "tensorflow:17.11",
  });
  assert.deepEqual(resolveClientName("shub://vsoch/hello-world", settings), {
    client: "hub",
    image: "vsoch/hello-world",
  });
  assert.deepEqual(resolveClientName("google_drive://x", settings), { client: "google-drive", image: "x" });
  assert.deepEqual(resolveClientName("DOCKER://ubuntu", settings), { client: "docker", image: "ubuntu" });
});

test("resolveClientName: no scheme → default client (env, then secrets file, then hub)", () => {
  assert.deepEqual(resolveClientName("ubuntu", settingsFor({ SREGISTRY_CLIENT: "docker" })), {
    client: "docker",
    image: "ubuntu",
  });
  assert.equal(resolveClientName("ubuntu", settingsFor({}, { SREGISTRY_CLIENT: "nvidia" })).client, "nvidia");
  assert.equal(
    resolveClientName("ubuntu", settingsFor({ SREGISTRY_CLIENT: "docker" }, { SREGISTRY_CLIENT: "nvidia" }))
      .client,
    "docker",
  );
  assert.equal(resolveClientName("ubuntu", settingsFor()).client, "hub");
  assert.deepEqual(resolveClientName(undefined, settingsFor()), { client: "hub", image: undefined });
  assert.equal(resolveClientName("localhost:5000/foo:1", settingsFor()).image, "localhost:5000/foo:1");
});

test("resolveClientName: an unknown scheme is an error", () => {
  assert.throws(
    () => resolveClientName("ftp://foo/bar", settingsFor()),
    (err: unknown) => err instanceof SregistryError && err.message === "ftp is not a recognized uri.",
  );
  assert.equal(resolveClientName("oras://foo/bar", settingsFor()).client, "oras");
});

test("nvidia: defaults nvcr.io, v2, $oauthtoken, collection nvidia, https", () => {
  const b = backendSettings("nvidia", settingsFor(), { SREGISTRY_NVIDIA_TOKEN: TOKEN }, {});
  assert.deepEqual(b, {
    name: "nvidia",
    registry: "nvcr.io",
    apiVersion: "v2",
    insecure: false,
    defaultCollection: "nvidia",
    username: "$oauthtoken",
    password: TOKEN,
    credentialsSource: "SREGISTRY_NVIDIA_TOKEN (environment)",
  });
  assert.equal(redact(`token ${TOKEN}`), "token ***");
});

test("nvidia: every variable overrides", () => {
  const env = {
    SREGISTRY_NVIDIA_TOKEN: TOKEN,
    SREGISTRY_NVIDIA_BASE: "127.0.0.1:5000",
    SREGISTRY_NVIDIA_VERSION: "v3",
    SREGISTRY_NVIDIA_USERNAME: "robot",
    SREGISTRY_NVIDIA_NOHTTPS: "yes",
  };
  const b = backendSettings("nvidia", settingsFor(), env, {});
  assert.equal(b.registry, "127.0.0.1:5000");
  assert.equal(b.apiVersion, "v3");
  assert.equal(b.username, "robot");
  assert.equal(b.insecure, true);
  const off = backendSettings("nvidia", settingsFor(), { ...env, SREGISTRY_NVIDIA_NOHTTPS: "false" }, {});
  assert.equal(off.insecure, false);
});

test("nvidia: a missing token is CREDENTIALS with the documented message", () => {
  assert.throws(
    () => backendSettings("nvidia", settingsFor(), {}, { nvidia: {} }),
    (err: unknown) =>
      err instanceof SregistryError &&
      err.code === "CREDENTIALS" &&
      err.exitCode === 1 &&
      err.message ===
        "You must have an Nvidia GPU cloud token to use it. Export SREGISTRY_NVIDIA_TOKEN (an NGC API key).",
  );
  assert.throws(
    () => backendSettings("nvidia", settingsFor(), { SREGISTRY_NVIDIA_TOKEN: "" }, {}),
    /NGC API key/,
  );
});

test("nvidia: the token and settings can come from the secrets file; env wins", () => {
  const secrets = {
    nvidia: { SREGISTRY_NVIDIA_TOKEN: "file-token-abcdef", SREGISTRY_NVIDIA_BASE: "nvcr.example.org" },
  };
  const fromFile = backendSettings("nvidia", settingsFor(), {}, secrets);
  assert.equal(fromFile.password, "file-token-abcdef");
  assert.equal(fromFile.registry, "nvcr.example.org");
  assert.equal(redact("file-token-abcdef"), "***");
  assert.equal(
    backendSettings("nvidia", settingsFor(), { SREGISTRY_NVIDIA_TOKEN: TOKEN }, secrets).password,
    TOKEN,
  );
});

test("docker: defaults index.docker.io, v2, library, https, no credentials", () => {
  const b = backendSettings("docker", settingsFor(), {}, {});
  assert.deepEqual(b, {
    name: "docker",
    registry: "index.docker.io",
    apiVersion: "v2",
    insecure: false,
    defaultCollection: "library",
  });
});

test("docker: base, version, NOHTTPS presence flag, credentials with SINGULARITY_ fallback", () => {
  const env = {
    SREGISTRY_DOCKERHUB_BASE: "LocalHost:5000",
    SREGISTRY_DOCKERHUB_VERSION: "v2",
    SREGISTRY_DOCKERHUB_NOHTTPS: "anything",
    SINGULARITY_DOCKER_USERNAME: "sing-user",
    SINGULARITY_DOCKER_PASSWORD: "sing-password-1",
  };
  const b = backendSettings("docker", settingsFor(), env, {});
  assert.equal(b.registry, "localhost:5000");
  assert.equal(b.insecure, true);
  assert.equal(b.username, "sing-user");
  assert.equal(b.password, "sing-password-1");
  assert.equal(redact("pw sing-password-1"), "pw ***");
  const own = backendSettings(
    "docker",
    settingsFor(),
    { ...env, SREGISTRY_DOCKERHUB_USERNAME: "hub-user", SREGISTRY_DOCKERHUB_PASSWORD: "hub-password-2" },
    {},
  );
  assert.equal(own.username, "hub-user");
  assert.equal(own.password, "hub-password-2");
  assert.equal(
    backendSettings("docker", settingsFor(), { SREGISTRY_DOCKERHUB_NOHTTPS: "no" }, {}).insecure,
    false,
  );
});

test("docker: settings from secrets[docker]", () => {
  const secrets = {
    docker: {
      SREGISTRY_DOCKERHUB_BASE: "registry.example.org",
      SREGISTRY_DOCKERHUB_USERNAME: "u",
      SREGISTRY_DOCKERHUB_PASSWORD: "stored-pw-77",
    },
  };
  const b = backendSettings("docker", settingsFor(), {}, secrets);
  assert.equal(b.registry, "registry.example.org");
  assert.equal(b.username, "u");
  assert.equal(b.password, "stored-pw-77");
});

test("docker: a base given as URL; http:// means insecure unless NOHTTPS says otherwise", () => {
  assert.deepEqual(parseBase("http://127.0.0.1:5000/", "X"), { registry: "127.0.0.1:5000", insecure: true });
  assert.deepEqual(parseBase("https://ghcr.io", "X"), { registry: "ghcr.io", insecure: false });
  assert.deepEqual(parseBase("[::1]:5000", "X"), { registry: "[::1]:5000", insecure: false });
  const b = backendSettings(
    "docker",
    settingsFor(),
    { SREGISTRY_DOCKERHUB_BASE: "http://localhost:5000" },
    {},
  );
  assert.equal(b.insecure, true);
  for (const bad of ["", "host/path", "a b", "-bad.com", "host:port"]) {
    assert.throws(() => parseBase(bad, "SREGISTRY_DOCKERHUB_BASE"), /SREGISTRY_DOCKERHUB_BASE must be/, bad);
  }
  assert.throws(
    () => backendSettings("docker", settingsFor(), { SREGISTRY_DOCKERHUB_VERSION: "v2/../x" }, {}),
    /SREGISTRY_DOCKERHUB_VERSION/,
  );
});

test("docker: SREGISTRY_DOCKERHUB_SECRETS must name an existing file", () => {
  const config = join(dir, "config.json");
  writeFileSync(config, '{"auths": {}}');
  const b = backendSettings("docker", settingsFor(), { SREGISTRY_DOCKERHUB_SECRETS: config }, {});
  assert.equal(b.dockerConfigPath, config);
  assert.throws(
    () =>
      backendSettings("docker", settingsFor(), { SREGISTRY_DOCKERHUB_SECRETS: join(dir, "nope.json") }, {}),
    (err: unknown) =>
      err instanceof SregistryError && err.message.includes("nope.json") && err.code === "BAD_SETTING",
  );
  assert.throws(
    () => backendSettings("docker", settingsFor(), { SREGISTRY_DOCKERHUB_SECRETS: dir }, {}),
    /does not exist/,
  );
});

test("other clients are BAD_CLIENT", () => {
  for (const client of ["hub", "registry", "s3", "google-drive"]) {
    assert.throws(
      () => backendSettings(client, settingsFor(), {}, {}),
      (err: unknown) =>
        err instanceof SregistryError &&
        err.code === "BAD_CLIENT" &&
        err.message === `the ${client} client is not available in this version; use docker or nvidia`,
    );
  }
});

test("persistBackendSecrets writes an env token under nvidia with mode 0600, once", () => {
  const path = join(dir, "persist", ".sregistry");
  writeSecrets(path, { SREGISTRY_CLIENT: "nvidia", hub: { base: "x" } });
  const env = { SREGISTRY_NVIDIA_TOKEN: TOKEN };
  assert.equal(persistBackendSecrets({ name: "nvidia" }, { clientSecretsPath: path }, env), true);
  assert.deepEqual(readSecrets(path), {
    SREGISTRY_CLIENT: "nvidia",
    hub: { base: "x" },
    nvidia: { SREGISTRY_NVIDIA_TOKEN: TOKEN },
  });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const before = statSync(path).mtimeMs;
  assert.equal(persistBackendSecrets({ name: "nvidia" }, { clientSecretsPath: path }, env), false);
  assert.equal(statSync(path).mtimeMs, before);
  assert.equal(
    persistBackendSecrets(
      { name: "nvidia" },
      { clientSecretsPath: path },
      { ...env, SREGISTRY_NVIDIA_USERNAME: "bot" },
    ),
    true,
  );
  assert.deepEqual(JSON.parse(readFileSync(path, "utf8")).nvidia, {
    SREGISTRY_NVIDIA_TOKEN: TOKEN,
    SREGISTRY_NVIDIA_USERNAME: "bot",
  });
  assert.deepEqual(readdirSync(join(dir, "persist")), [".sregistry"]);
});

test("persistBackendSecrets: nothing in env, or another client → no write", () => {
  const path = join(dir, "persist-none", ".sregistry");
  assert.equal(persistBackendSecrets({ name: "nvidia" }, { clientSecretsPath: path }, {}), false);
  assert.equal(
    persistBackendSecrets(
      { name: "docker" },
      { clientSecretsPath: path },
      { SREGISTRY_DOCKERHUB_PASSWORD: "x" },
    ),
    false,
  );
  assert.throws(() => statSync(path), /ENOENT/);
});

test("loading backend settings has no side effect on the secrets file", () => {
  const path = join(dir, "pure", ".sregistry");
  const settings = loadSettings({ SREGISTRY_CLIENT_SECRETS: path }, { home });
  backendSettings("nvidia", settings, { SREGISTRY_NVIDIA_TOKEN: TOKEN }, readSecrets(path));
  assert.throws(() => statSync(path), /ENOENT/);
});

test("credentialsSource: the variable when it is in the environment, else the secrets file", () => {
  const settings = settingsFor();
  const secrets = {
    nvidia: { SREGISTRY_NVIDIA_TOKEN: TOKEN },
    docker: { SREGISTRY_DOCKERHUB_PASSWORD: "pw" },
  };
  assert.equal(
    backendSettings("nvidia", settings, {}, secrets).credentialsSource,
    `the secrets file ${settings.clientSecretsPath} (nvidia.SREGISTRY_NVIDIA_TOKEN)`,
  );
  assert.equal(
    backendSettings("nvidia", settings, { SREGISTRY_NVIDIA_TOKEN: TOKEN }, secrets).credentialsSource,
    "SREGISTRY_NVIDIA_TOKEN (environment)",
  );
  const docker = (env: NodeJS.ProcessEnv) =>
    backendSettings("docker", settings, { SREGISTRY_DOCKERHUB_USERNAME: "u", ...env }, {}).credentialsSource;
  assert.equal(docker({ SINGULARITY_DOCKER_PASSWORD: "p" }), "SINGULARITY_DOCKER_PASSWORD (environment)");
  assert.equal(docker({ SREGISTRY_DOCKERHUB_PASSWORD: "p" }), "SREGISTRY_DOCKERHUB_PASSWORD (environment)");
  assert.equal(docker({}), undefined, "no password, no source");
});

test("registry commands: with no client configured a bare name means docker; a chosen hub stays hub", () => {
  const none = settingsFor();
  assert.equal(none.defaultClient, "hub");
  assert.equal(clientConfigured({}, {}), false);
  assert.deepEqual(resolveRegistryClient("ubuntu:22.04", none, false), {
    client: "docker",
    image: "ubuntu:22.04",
  });
  assert.equal(
    resolveRegistryClient("shub://vsoch/hello", none, false).client,
    "hub",
    "an explicit scheme wins",
  );
  assert.equal(resolveRegistryClient("nvidia://caffe2:17.10", none, false).client, "nvidia");
  const chosen = settingsFor({ SREGISTRY_CLIENT: "hub" });
  assert.equal(clientConfigured({ SREGISTRY_CLIENT: "hub" }, {}), true);
  assert.equal(clientConfigured({ SREGISTRY_CLIENT: " " }, { SREGISTRY_CLIENT: "hub" }), true);
  assert.equal(resolveRegistryClient("ubuntu", chosen, true).client, "hub");
  assert.equal(
    resolveRegistryClient("ubuntu", settingsFor({}, { SREGISTRY_CLIENT: "nvidia" }), true).client,
    "nvidia",
  );
});
