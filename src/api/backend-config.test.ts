import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Context } from "./context.js";
import {
  activateBackend,
  addBackendSetting,
  backendStatus,
  deactivateBackend,
  deleteBackend,
  listBackends,
  maskSecrets,
  removeBackendSetting,
  settingKey,
  showBackend,
} from "./backend-config.js";

let dir: string;
let secretsPath: string;
const ctx = () => new Context({ env: { SREGISTRY_CLIENT_SECRETS: secretsPath }, home: dir });
const fileContent = () => JSON.parse(readFileSync(secretsPath, "utf8")) as Record<string, unknown>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sregistry-backend-"));
  secretsPath = join(dir, "secrets.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("add prefixes and upper-cases the variable and writes a 0600 file", () => {
  const change = addBackendSetting(ctx(), "nvidia", "token", "nvapi-123");
  assert.deepEqual(change, { backend: "nvidia", key: "SREGISTRY_NVIDIA_TOKEN", value: "nvapi-123" });
  assert.deepEqual(fileContent(), { nvidia: { SREGISTRY_NVIDIA_TOKEN: "nvapi-123" } });
  assert.equal(statSync(secretsPath).mode & 0o777, 0o600);
  assert.ok(!readFileSync(secretsPath, "utf8").endsWith("\n"), "no trailing newline, like the original");
});

test("keys: SREGISTRY_ names kept, docker uses the DOCKERHUB prefix, dashes become underscores", () => {
  assert.equal(settingKey("nvidia", "SREGISTRY_NVIDIA_TOKEN"), "SREGISTRY_NVIDIA_TOKEN");
  assert.equal(settingKey("nvidia", "sregistry_shell"), "SREGISTRY_SHELL");
  assert.equal(settingKey("docker", "base"), "SREGISTRY_DOCKERHUB_BASE");
  assert.equal(settingKey("google-storage", "bucket"), "SREGISTRY_GOOGLE_STORAGE_BUCKET");
});

test("add refuses to overwrite a different value without force, and keeps the old one", () => {
  addBackendSetting(ctx(), "docker", "base", "a.example:5000");
  assert.throws(
    () => addBackendSetting(ctx(), "docker", "base", "b.example"),
    /^SregistryError: SREGISTRY_DOCKERHUB_BASE is already set as "a.example:5000". Use --force to override.$/,
  );
  assert.equal((fileContent().docker as Record<string, string>).SREGISTRY_DOCKERHUB_BASE, "a.example:5000");
  const change = addBackendSetting(ctx(), "docker", "base", "b.example", { force: true });
  assert.equal(change.previous, "a.example:5000");
  assert.equal((fileContent().docker as Record<string, string>).SREGISTRY_DOCKERHUB_BASE, "b.example");
});

test("the already-set error never shows a secret", () => {
  addBackendSetting(ctx(), "nvidia", "token", "very-secret");
  assert.throws(
    () => addBackendSetting(ctx(), "nvidia", "TOKEN", "other"),
    (err: Error) => err.message.includes("***") && !err.message.includes("very-secret"),
  );
});

test("remove works with a lower-case variable (the original's casing bug)", () => {
  addBackendSetting(ctx(), "nvidia", "token", "x");
  addBackendSetting(ctx(), "nvidia", "username", "me");
  assert.deepEqual(removeBackendSetting(ctx(), "nvidia", "token"), {
    backend: "nvidia",
    key: "SREGISTRY_NVIDIA_TOKEN",
    removed: true,
  });
  assert.deepEqual(fileContent(), { nvidia: { SREGISTRY_NVIDIA_USERNAME: "me" } });
  assert.equal(removeBackendSetting(ctx(), "nvidia", "token").removed, false);
});

test("status does not count SREGISTRY_CLIENT; activate/deactivate", () => {
  writeFileSync(secretsPath, JSON.stringify({ hub: { base: "x" }, nvidia: {} }), { mode: 0o644 });
  assert.deepEqual(backendStatus(ctx()), { count: 2, active: undefined, path: secretsPath });
  assert.equal(activateBackend(ctx(), "NVIDIA"), "nvidia");
  assert.deepEqual(backendStatus(ctx()), { count: 2, active: "nvidia", path: secretsPath });
  assert.deepEqual(listBackends(ctx()), ["hub", "nvidia"]);
  assert.equal(statSync(secretsPath).mode & 0o777, 0o600, "rewritten file is 0600");
  assert.equal(deactivateBackend(ctx()), "nvidia");
  assert.equal(deactivateBackend(ctx()), undefined);
  assert.equal(fileContent().SREGISTRY_CLIENT, undefined);
});

test("activate and add refuse a client this version cannot use, and leave the file alone", () => {
  assert.throws(() => activateBackend(ctx(), "nvdia"), {
    message: "nvdia is not a known client; use docker or nvidia",
  });
  assert.throws(() => activateBackend(ctx(), "s3"), {
    message: "the s3 client is not available in this version; use docker or nvidia",
  });
  assert.throws(() => activateBackend(ctx(), "hub"), { code: "BAD_CLIENT" });
  assert.throws(() => addBackendSetting(ctx(), "foo", "base", "x"), {
    message: "foo is not a known client; use docker or nvidia",
  });
  assert.throws(
    () => addBackendSetting(ctx(), "google_drive", "token", "x"),
    /google-drive client is not available/,
  );
  assert.equal(existsSync(secretsPath), false);
});

test("delete removes the backend and the active pointer to it", () => {
  writeFileSync(secretsPath, JSON.stringify({ SREGISTRY_CLIENT: "nvidia", nvidia: { a: 1 }, hub: {} }));
  assert.equal(deleteBackend(ctx(), "nvidia"), true);
  assert.deepEqual(fileContent(), { hub: {} });
  assert.equal(deleteBackend(ctx(), "nvidia"), false);
  assert.equal(deleteBackend(ctx(), "SREGISTRY_CLIENT"), false);
});

test("show returns a backend's settings; maskSecrets hides credentials", () => {
  writeFileSync(
    secretsPath,
    JSON.stringify({ nvidia: { SREGISTRY_NVIDIA_TOKEN: "t", SREGISTRY_NVIDIA_BASE: "b" } }),
  );
  const shown = showBackend(ctx(), "nvidia");
  assert.deepEqual(shown, { SREGISTRY_NVIDIA_TOKEN: "t", SREGISTRY_NVIDIA_BASE: "b" });
  assert.deepEqual(maskSecrets(shown!), { SREGISTRY_NVIDIA_TOKEN: "***", SREGISTRY_NVIDIA_BASE: "b" });
  assert.equal(showBackend(ctx(), "docker"), undefined);
});

test("a missing secrets file: ls and status are empty, remove and delete are errors", () => {
  assert.deepEqual(listBackends(ctx()), []);
  assert.equal(backendStatus(ctx()).count, 0);
  assert.throws(() => removeBackendSetting(ctx(), "nvidia", "token"), /there is no secrets file/);
  assert.throws(() => deleteBackend(ctx(), "nvidia"), /there is no secrets file/);
  assert.equal(existsSync(secretsPath), false);
});
