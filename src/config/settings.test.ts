import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { SregistryError } from "../util/errors.js";
import { LEVELS } from "../util/log.js";
import { writeSecrets } from "./secrets.js";
import {
  effectiveHome,
  hostArchitecture,
  loadSettings,
  lookupSetting,
  normaliseArchitecture,
  parseThreads,
  parseTrustedRealms,
  pathSetting,
} from "./settings.js";

const home = "/home/ada";
const load = (env: NodeJS.ProcessEnv, secrets = {}) => loadSettings(env, { home, secrets });

test("defaults with an empty environment and no secrets", () => {
  const s = load({});
  assert.equal(s.home, home);
  assert.equal(s.clientSecretsPath, "/home/ada/.sregistry");
  assert.equal(s.defaultClient, "hub");
  assert.equal(s.databaseDir, "/home/ada/.singularity");
  assert.equal(s.databasePath, "/home/ada/.singularity/sregistry.db");
  assert.equal(s.storageDir, "/home/ada/.singularity/shub");
  assert.equal(s.disableDatabase, false);
  assert.equal(s.cacheDir, "/home/ada/.singularity");
  assert.equal(s.disableCache, false);
  assert.equal(s.verifyCache, false);
  assert.equal(s.tmpDir, tmpdir());
  assert.equal(s.threads, 9);
  assert.equal(s.messageLevel, LEVELS.INFO);
  assert.equal(s.httpsNoVerify, false);
  assert.deepEqual(s.platform, { os: "linux", architecture: hostArchitecture() });
  assert.equal(s.dockerCmd, false);
  assert.equal(s.shell, undefined);
  assert.ok(!("shell" in s));
});

test("path variables override the defaults; storage is not derived from SREGISTRY_DATABASE", () => {
  const s = load({
    SREGISTRY_CLIENT_SECRETS: "/etc/sreg.json",
    SREGISTRY_DATABASE: "/data/db",
    SINGULARITY_CACHEDIR: "/scratch/cache",
    SREGISTRY_TMPDIR: "/scratch/tmp",
  });
  assert.equal(s.clientSecretsPath, "/etc/sreg.json");
  assert.equal(s.databaseDir, "/data/db");
  assert.equal(s.databasePath, "/data/db/sregistry.db");
  assert.equal(s.storageDir, "/home/ada/.singularity/shub");
  assert.equal(s.cacheDir, "/scratch/cache");
  assert.equal(s.tmpDir, "/scratch/tmp");
  assert.equal(load({ SREGISTRY_STORAGE: "/data/images" }).storageDir, "/data/images");
});

test("path variables: ~ expansion, relative paths made absolute, empty means unset", () => {
  assert.equal(load({ SREGISTRY_STORAGE: "~/imgs" }).storageDir, "/home/ada/imgs");
  assert.equal(load({ SREGISTRY_DATABASE: "~" }).databasePath, "/home/ada/sregistry.db");
  assert.equal(load({ SINGULARITY_CACHEDIR: "rel/cache" }).cacheDir, resolve("rel/cache"));
  assert.equal(load({ SREGISTRY_DATABASE: "" }).databaseDir, "/home/ada/.singularity");
  assert.equal(pathSetting("  ", home), undefined);
  assert.equal(pathSetting("/a/../b", home), "/b");
});

test("booleans: SREGISTRY_DISABLE, SINGULARITY_DISABLE_CACHE, SREGISTRY_HTTPS_NOVERIFY", () => {
  const on = load({
    SREGISTRY_DISABLE: "yes",
    SINGULARITY_DISABLE_CACHE: "TRUE",
    SREGISTRY_HTTPS_NOVERIFY: "1",
    SREGISTRY_VERIFY_CACHE: "yes",
  });
  assert.equal(on.verifyCache, true);
  assert.equal(on.disableDatabase, true);
  assert.equal(on.disableCache, true);
  assert.equal(on.httpsNoVerify, true);
  const off = load({
    SREGISTRY_DISABLE: "no",
    SINGULARITY_DISABLE_CACHE: "whatever",
    SREGISTRY_HTTPS_NOVERIFY: "0",
  });
  assert.equal(off.disableDatabase, false);
  assert.equal(off.disableCache, false);
  assert.equal(off.httpsNoVerify, false);
});

test("SINGULARITY_DISABLE_CACHE disables only the blob cache, not the catalog", () => {
  const s = load({ SINGULARITY_DISABLE_CACHE: "yes" });
  assert.equal(s.disableCache, true);
  assert.equal(s.disableDatabase, false);
});

test("SREGISTRY_PYTHON_THREADS: default 9, 1..64 accepted, anything else refused", () => {
  assert.equal(load({ SREGISTRY_PYTHON_THREADS: "4" }).threads, 4);
  assert.equal(load({ SREGISTRY_PYTHON_THREADS: "64" }).threads, 64);
  assert.equal(load({ SREGISTRY_PYTHON_THREADS: " 1 " }).threads, 1);
  assert.equal(parseThreads(""), 9);
  for (const bad of ["0", "65", "-1", "2.5", "four", "1e1", "0x10"]) {
    assert.throws(
      () => load({ SREGISTRY_PYTHON_THREADS: bad }),
      (err: unknown) =>
        err instanceof SregistryError &&
        err.code === "BAD_SETTING" &&
        err.message.includes("SREGISTRY_PYTHON_THREADS"),
      bad,
    );
  }
});

test("MESSAGELEVEL: names and numbers", () => {
  assert.equal(load({ MESSAGELEVEL: "DEBUG" }).messageLevel, 5);
  assert.equal(load({ MESSAGELEVEL: "quiet" }).messageLevel, 0);
  assert.equal(load({ MESSAGELEVEL: "5" }).messageLevel, 5);
  assert.equal(load({ MESSAGELEVEL: "-3" }).messageLevel, -3);
});

test("SREGISTRY_CLIENT: env wins over the secrets file, which wins over hub", () => {
  assert.equal(load({ SREGISTRY_CLIENT: "docker" }, { SREGISTRY_CLIENT: "nvidia" }).defaultClient, "docker");
  assert.equal(load({}, { SREGISTRY_CLIENT: "nvidia" }).defaultClient, "nvidia");
  assert.equal(load({ SREGISTRY_CLIENT: "" }, { SREGISTRY_CLIENT: "nvidia" }).defaultClient, "nvidia");
  assert.equal(load({}, { SREGISTRY_CLIENT: 3 }).defaultClient, "hub");
  assert.equal(load({ SREGISTRY_CLIENT: "Google_Drive" }).defaultClient, "google-drive");
});

test("the secrets file is read from SREGISTRY_CLIENT_SECRETS when not given", () => {
  const dir = mkdtempSync(join(tmpdir(), "sregistry-settings-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "secrets.json");
  writeSecrets(path, { SREGISTRY_CLIENT: "nvidia", nvidia: { SREGISTRY_DOCKER_CMD: "yes" } });
  const s = loadSettings({ SREGISTRY_CLIENT_SECRETS: path }, { home });
  assert.equal(s.defaultClient, "nvidia");
  assert.equal(s.dockerCmd, true);
  assert.equal(
    loadSettings({ SREGISTRY_CLIENT_SECRETS: join(dir, "missing") }, { home }).defaultClient,
    "hub",
  );
  const broken = join(dir, "broken.json");
  writeFileSync(broken, "{nope");
  assert.throws(() => loadSettings({ SREGISTRY_CLIENT_SECRETS: broken }, { home }), /broken\.json/);
});

test("platform: SREGISTRY_DOCKER_OS/_ARCHITECTURE/_VARIANT with aliases", () => {
  const s = load({
    SREGISTRY_DOCKER_OS: "Windows",
    SREGISTRY_DOCKER_ARCHITECTURE: "aarch64",
    SREGISTRY_DOCKER_VARIANT: "V8",
  });
  assert.deepEqual(s.platform, { os: "windows", architecture: "arm64", variant: "v8" });
  assert.equal(load({ SREGISTRY_DOCKER_ARCHITECTURE: "x86_64" }).platform.architecture, "amd64");
  assert.equal(load({ SREGISTRY_DOCKER_ARCHITECTURE: "ppc64le" }).platform.architecture, "ppc64le");
  assert.equal(load({ SREGISTRY_DOCKER_VARIANT: "" }).platform.variant, undefined);
  assert.equal(normaliseArchitecture(" I686 "), "386");
});

test("hostArchitecture maps Node names to Go names", () => {
  assert.equal(hostArchitecture("x64"), "amd64");
  assert.equal(hostArchitecture("arm64"), "arm64");
  assert.equal(hostArchitecture("ia32"), "386");
  assert.equal(hostArchitecture("arm"), "arm");
  assert.equal(hostArchitecture("ppc64", "LE"), "ppc64le");
  assert.equal(hostArchitecture("ppc64", "BE"), "ppc64");
  assert.equal(hostArchitecture("s390x"), "s390x");
  assert.equal(hostArchitecture("riscv64"), "riscv64");
  assert.equal(hostArchitecture("loong64"), "loong64");
  assert.equal(hostArchitecture("mipsel"), "mipsle");
});

test("SREGISTRY_DOCKER_CMD is a presence flag, env first then secrets[client]", () => {
  assert.equal(load({ SREGISTRY_DOCKER_CMD: "yes" }).dockerCmd, true);
  assert.equal(load({ SREGISTRY_DOCKER_CMD: "anything" }).dockerCmd, true);
  assert.equal(load({ SREGISTRY_DOCKER_CMD: "false" }).dockerCmd, false);
  assert.equal(
    load({ SREGISTRY_CLIENT: "docker" }, { docker: { SREGISTRY_DOCKER_CMD: "1" } }).dockerCmd,
    true,
  );
  assert.equal(
    load({ SREGISTRY_CLIENT: "nvidia" }, { docker: { SREGISTRY_DOCKER_CMD: "1" } }).dockerCmd,
    false,
  );
  const forDocker = loadSettings(
    {},
    { home, secrets: { docker: { SREGISTRY_DOCKER_CMD: "1" } }, client: "docker" },
  );
  assert.equal(forDocker.dockerCmd, true);
});

test("client-scoped settings come from the secrets file: shell and platform", () => {
  const secrets = {
    SREGISTRY_CLIENT: "docker",
    docker: {
      SREGISTRY_SHELL: "ipython",
      SREGISTRY_DOCKER_ARCHITECTURE: "arm64",
      SREGISTRY_DOCKER_OS: "linux",
    },
  };
  const s = load({}, secrets);
  assert.equal(s.shell, "ipython");
  assert.equal(s.platform.architecture, "arm64");
  assert.equal(load({ SREGISTRY_SHELL: "python" }, secrets).shell, "python");
  assert.equal(load({ SREGISTRY_DOCKER_ARCHITECTURE: "amd64" }, secrets).platform.architecture, "amd64");
});

test("lookupSetting: env first, then secrets[client][name]; numbers and booleans as text", () => {
  const secrets = { nvidia: { A: "from-file", B: 5, C: true, D: { nested: 1 }, E: "" } };
  const source = (env: NodeJS.ProcessEnv) => ({ env, secrets, client: "nvidia" });
  assert.equal(lookupSetting("A", source({ A: "from-env" })), "from-env");
  assert.equal(lookupSetting("A", source({ A: "" })), "from-file");
  assert.equal(lookupSetting("A", source({})), "from-file");
  assert.equal(lookupSetting("B", source({})), "5");
  assert.equal(lookupSetting("C", source({})), "true");
  assert.equal(lookupSetting("D", source({})), undefined);
  assert.equal(lookupSetting("E", source({})), undefined);
  assert.equal(lookupSetting("A", { env: {}, secrets, client: "docker" }), undefined);
});

test("the home folder is $HOME when set (absolute), else the passwd entry", () => {
  assert.equal(effectiveHome({ HOME: "/elsewhere/me" }), "/elsewhere/me");
  assert.equal(effectiveHome({}), userInfo().homedir);
  assert.equal(effectiveHome({ HOME: "" }), userInfo().homedir);
  assert.equal(effectiveHome({ HOME: "relative/home" }), userInfo().homedir, "a relative HOME is ignored");
  const s = loadSettings({ HOME: "/elsewhere/me" }, { secrets: {} });
  assert.equal(s.databaseDir, join("/elsewhere/me", ".singularity"));
  assert.equal(s.clientSecretsPath, join("/elsewhere/me", ".sregistry"));
  assert.equal(s.storageDir, join("/elsewhere/me", ".singularity", "shub"));
});

test("SREGISTRY_TRUSTED_REALMS: comma-separated hosts, lower-cased; anything else refused", () => {
  assert.deepEqual(loadSettings({}, { home: "/h", secrets: {} }).trustedRealms, []);
  const env = { SREGISTRY_TRUSTED_REALMS: " Auth.Example.org, token.corp.local:8443 ,," };
  assert.deepEqual(loadSettings(env, { home: "/h", secrets: {} }).trustedRealms, [
    "auth.example.org",
    "token.corp.local:8443",
  ]);
  for (const bad of ["https://auth.example.org", "auth.example.org/token", "a b"]) {
    assert.throws(() => parseTrustedRealms(bad), {
      code: "BAD_SETTING",
      message: /SREGISTRY_TRUSTED_REALMS/,
    });
  }
});
