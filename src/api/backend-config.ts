/**
 * `backend`: the secrets file's backend settings, as the original's `sregistry backend` — list, status, activate,
 * deactivate, add and remove a setting, delete a backend.
 *
 * Every write goes through `updateSecrets` (temp file 0600, fsync, rename), so the file is never
 * half-written and never readable by others. Deviations from the original, on purpose:
 * - `status` counts backends without the top-level `SREGISTRY_CLIENT` key (the original was one off);
 * - `remove` upper-cases and prefixes the variable exactly like `add` (the original deleted nothing
 *   for a lower-case variable);
 * - a variable that already starts with `SREGISTRY_` is kept as given (upper-cased); any other is
 *   prefixed with the backend's prefix, which for `docker` is `SREGISTRY_DOCKERHUB_` — the names the
 *   docker backend reads (the original wrote `SREGISTRY_DOCKER_BASE`, which nothing read);
 * - `activate` and `add` accept only a backend this version can use, `docker` or `nvidia` (the
 *   original stored any name, e.g. `activate foo`, and then failed at the next pull); `ls`, `remove`
 *   and `delete` take any name, so an old file's `hub` or `s3` section can still be cleaned up;
 * - `remove` and `delete` need an existing secrets file; `ls` and `status` show an empty one;
 * - values of credential keys (containing TOKEN, PASSWORD, PASSWD, SECRET or API_KEY) are masked
 *   as `***` by `maskSecrets` (the CLI shows them only with `--show-secrets`).
 *
 * @example
 * ```ts
 * addBackendSetting(ctx, "nvidia", "token", "nvapi-…");   // key SREGISTRY_NVIDIA_TOKEN
 * activateBackend(ctx, "nvidia");
 * backendStatus(ctx);   // { count: 1, active: "nvidia", path: "/home/me/.sregistry" }
 * maskSecrets(showBackend(ctx, "nvidia")!); // { SREGISTRY_NVIDIA_TOKEN: "***" }
 * ```
 */
import { existsSync } from "node:fs";
import { isKnownClient, isRegistryClient, normaliseClientName, REGISTRY_CLIENTS } from "../config/clients.js";
import { backendSection, readSecrets, updateSecrets, type SecretsFile } from "../config/secrets.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";

const ACTIVE_KEY = "SREGISTRY_CLIENT";
/** Keys whose values are credentials: masked when shown. */
const SECRET_KEY = /TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY/i;
export const MASK = "***";

export interface BackendStatus {
  /** Number of backends in the file (`SREGISTRY_CLIENT` itself not counted). */
  count: number;
  /** The active backend (top-level `SREGISTRY_CLIENT`), if any. */
  active: string | undefined;
  /** The secrets file. */
  path: string;
}

export interface SettingChange {
  backend: string;
  /** The key as stored, e.g. `SREGISTRY_NVIDIA_TOKEN`. */
  key: string;
  value: string;
  /** The value it replaced (with `force`), if any. */
  previous?: string;
}

/** Backend names in the file: every top-level key except `SREGISTRY_CLIENT`, in file order. */
export function listBackends(ctx: Context): string[] {
  return backendNames(read(ctx));
}

/** One backend's settings, or undefined when the file has no such backend. */
export function showBackend(ctx: Context, name: string): Record<string, unknown> | undefined {
  const secrets = read(ctx);
  return Object.hasOwn(secrets, name) && name !== ACTIVE_KEY ? backendSection(secrets, name) : undefined;
}

/** How many backends the file holds and which one is active. */
export function backendStatus(ctx: Context): BackendStatus {
  const secrets = read(ctx);
  const active = typeof secrets[ACTIVE_KEY] === "string" ? secrets[ACTIVE_KEY] : undefined;
  return { count: backendNames(secrets).length, active, path: ctx.settings.clientSecretsPath };
}

/** Makes `name` the default client (top-level `SREGISTRY_CLIENT`); returns the stored name. */
export function activateBackend(ctx: Context, name: string): string {
  const client = usableClient(name);
  write(ctx, (secrets) => ({ ...secrets, [ACTIVE_KEY]: client }));
  return client;
}

/** Removes the default client; returns the one that was active (undefined when none was). */
export function deactivateBackend(ctx: Context): string | undefined {
  const { active } = backendStatus(ctx);
  if (active === undefined) return undefined;
  write(ctx, (secrets) => without(secrets, ACTIVE_KEY));
  return active;
}

/** The stored key for `variable` of `backend`: upper-cased, prefixed unless it starts with SREGISTRY_. */
export function settingKey(backend: string, variable: string): string {
  const upper = variable.trim().toUpperCase();
  if (upper.startsWith("SREGISTRY_")) return upper;
  return `${backendPrefix(backend)}${upper}`;
}

/** `SREGISTRY_<NAME>_`, with `-` as `_`; docker's settings are named SREGISTRY_DOCKERHUB_*. */
export function backendPrefix(backend: string): string {
  const name = normaliseClientName(backend);
  const word = name === "docker" ? "DOCKERHUB" : name.toUpperCase().replace(/-/g, "_");
  return `SREGISTRY_${word}_`;
}

/** Sets one setting of a backend; an existing different value needs `force`. */
export function addBackendSetting(
  ctx: Context,
  backend: string,
  variable: string,
  value: string,
  options: { force?: boolean } = {},
): SettingChange {
  const name = usableClient(backendName(backend));
  const key = settingKey(name, variable);
  let previous: string | undefined;
  write(ctx, (secrets) => {
    const section = backendSection(secrets, name);
    const old = section[key];
    if (old !== undefined && old !== value && !options.force) {
      const shown = isSecretKey(key) ? MASK : JSON.stringify(old);
      throw new SregistryError(`${key} is already set as ${shown}. Use --force to override.`, {
        code: "ALREADY_SET",
      });
    }
    if (old !== undefined) previous = String(old);
    return { ...secrets, [name]: { ...section, [key]: value } };
  });
  return { backend: name, key, value, ...(previous === undefined ? {} : { previous }) };
}

/** Removes one setting; returns the key and whether it was set. */
export function removeBackendSetting(
  ctx: Context,
  backend: string,
  variable: string,
): { backend: string; key: string; removed: boolean } {
  const name = backendName(backend);
  const key = settingKey(name, variable);
  requireFile(ctx);
  const section = backendSection(read(ctx), name);
  if (!Object.hasOwn(section, key)) return { backend: name, key, removed: false };
  write(ctx, (secrets) => ({ ...secrets, [name]: without(backendSection(secrets, name), key) }));
  return { backend: name, key, removed: true };
}

/**
 * Deletes a backend's whole settings object (and `SREGISTRY_CLIENT` when it named that backend).
 * Returns false when the file has no such backend.
 */
export function deleteBackend(ctx: Context, backend: string): boolean {
  requireFile(ctx);
  if (showBackend(ctx, backend) === undefined) return false;
  write(ctx, (secrets) => {
    const kept = without(secrets, backend);
    return kept[ACTIVE_KEY] === backend ? without(kept, ACTIVE_KEY) : kept;
  });
  return true;
}

/** True for keys whose value is a credential. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of a backend's settings with credential values replaced by `***`. */
export function maskSecrets(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, isSecretKey(k) ? MASK : v]));
}

function backendNames(secrets: SecretsFile): string[] {
  return Object.keys(secrets).filter((key) => key !== ACTIVE_KEY);
}

/** The normalised name of a backend this version has; one clear error for any other. */
function usableClient(name: string): string {
  const client = normaliseClientName(name);
  if (isRegistryClient(client)) return client;
  const choices = REGISTRY_CLIENTS.join(" or ");
  const reason = isKnownClient(client)
    ? `the ${client} client is not available in this version`
    : `${name} is not a known client`;
  throw new SregistryError(`${reason}; use ${choices}`, { code: "BAD_CLIENT" });
}

function backendName(backend: string): string {
  const name = backend.trim();
  if (name === "" || name === ACTIVE_KEY) {
    throw new SregistryError(`"${backend}" is not a valid backend name`, { code: "BAD_CLIENT" });
  }
  return name;
}

function requireFile(ctx: Context): void {
  const path = ctx.settings.clientSecretsPath;
  if (!existsSync(path)) {
    throw new SregistryError(
      `there is no secrets file ${path} (set SREGISTRY_CLIENT_SECRETS to use another)`,
      {
        code: "SECRETS",
      },
    );
  }
}

/** Always the file's current content: another command may have written it since the context read it. */
function read(ctx: Context): SecretsFile {
  return readSecrets(ctx.settings.clientSecretsPath);
}

function write(ctx: Context, fn: (current: SecretsFile) => SecretsFile): void {
  updateSecrets(ctx.settings.clientSecretsPath, fn);
  ctx.invalidateSecrets();
}

function without<T extends Record<string, unknown>>(object: T, key: string): T {
  const copy = { ...object };
  delete copy[key];
  return copy;
}
