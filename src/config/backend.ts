/**
 * Which backend ("client") a command uses, and that backend's registry settings.
 *
 * The client comes from a `scheme://` prefix on the image (`nvidia://tensorflow:17.11`), else from
 * the settings' default client (SREGISTRY_CLIENT, the secrets file, `hub`). Only `docker` and
 * `nvidia` have a registry backend here; every other client name still works for the local
 * catalog commands but `backendSettings` refuses it. For commands that talk to a registry
 * (`resolveRegistryClient`), the implicit `hub` — nothing configured anywhere — means `docker`:
 * Singularity Hub is read-only and archived, and a bare `ubuntu:22.04` is a Docker Hub name to
 * every container tool today. A `hub` the user chose (SREGISTRY_CLIENT=hub, `shub://`) still fails.
 *
 * Settings follow the original sregistry-cli: environment first, then `secrets[<client>][NAME]`. Deviations:
 * an unknown scheme is an error (the original warned and used the default client); `*_NOHTTPS`
 * accepts an explicit false (see booleans.ts); a base given as a URL (`http://host:5000`) is
 * accepted, `http://` meaning insecure; a missing SREGISTRY_DOCKERHUB_SECRETS file is an error.
 *
 * Loading has no side effects. `persistBackendSecrets` writes an nvidia token given in the
 * environment into the secrets file (0600), as the original did; the command layer calls it only
 * once the registry accepted the key (the original saved any key, so a typo stuck). Where the
 * explicit credentials came from (`credentialsSource`: the variable or the secrets file) is kept
 * for error messages.
 *
 * @example
 * ```ts
 * const { client, image } = resolveClientName("nvidia://tensorflow:17.11", settings);
 * const backend = backendSettings(client, settings, process.env, secrets);
 * backend.registry; // "nvcr.io"
 * persistBackendSecrets(backend, settings, process.env);
 * ```
 */
import { statSync } from "node:fs";
import { isRegistryHost } from "../reference/grammar.js";
import { SregistryError } from "../util/errors.js";
import { registerSecret } from "../util/redact.js";
import { parsePresenceFlag } from "./booleans.js";
import { isKnownClient, isRegistryClient, normaliseClientName } from "./clients.js";
import { backendSection, readSecrets, writeSecrets, type SecretsFile } from "./secrets.js";
import { lookupSetting, pathSetting, type SettingSource } from "./settings.js";
import type { BackendSettings, Settings } from "./types.js";

const SCHEME = /^([^/:@]*):\/\//;

/** Splits `scheme://image` into the client name and the image; no scheme → the default client. */
export function resolveClientName(
  image: string | undefined,
  settings: Settings,
): { client: string; image: string | undefined } {
  if (image === undefined) return { client: settings.defaultClient, image };
  const match = SCHEME.exec(image);
  if (!match) return { client: settings.defaultClient, image };
  const scheme = match[1] ?? "";
  if (!isKnownClient(scheme)) {
    throw new SregistryError(`${scheme} is not a recognized uri.`, { code: "BAD_REFERENCE" });
  }
  return { client: normaliseClientName(scheme), image: image.slice(match[0].length) };
}

/** True when SREGISTRY_CLIENT is set (non-empty) in the environment or the secrets file. */
export function clientConfigured(env: NodeJS.ProcessEnv, secrets: SecretsFile): boolean {
  const stored = secrets.SREGISTRY_CLIENT;
  return Boolean(env.SREGISTRY_CLIENT?.trim()) || (typeof stored === "string" && stored.trim() !== "");
}

/**
 * `resolveClientName` for pull and record: an image without a scheme, when no client is
 * configured (`configured` false), goes to `docker` instead of the unavailable default `hub`.
 */
export function resolveRegistryClient(
  image: string | undefined,
  settings: Settings,
  configured: boolean,
): { client: string; image: string | undefined } {
  const picked = resolveClientName(image, settings);
  const implicit = !configured && picked.image === image && picked.client === "hub";
  return implicit ? { ...picked, client: "docker" } : picked;
}

/** The registry settings of `docker` or `nvidia`; any other client is BAD_CLIENT. */
export function backendSettings(
  client: string,
  settings: Settings,
  env: NodeJS.ProcessEnv,
  secrets: SecretsFile,
): BackendSettings {
  const name = normaliseClientName(client);
  if (!isRegistryClient(name)) {
    throw new SregistryError(`the ${client} client is not available in this version; use docker or nvidia`, {
      code: "BAD_CLIENT",
    });
  }
  const source: SettingSource = { env, secrets, client: name };
  const backend = name === "nvidia" ? nvidiaSettings(source) : dockerSettings(source, settings.home);
  const secretName = name === "nvidia" ? "SREGISTRY_NVIDIA_TOKEN" : passwordVariable(env);
  if (backend.password === undefined) return backend;
  return { ...backend, credentialsSource: describeOrigin(secretName, source, settings.clientSecretsPath) };
}

/** NGC: nvcr.io, `$oauthtoken` + API key, default collection `nvidia`. */
function nvidiaSettings(source: SettingSource): BackendSettings {
  const token = lookupSetting("SREGISTRY_NVIDIA_TOKEN", source);
  if (token === undefined) {
    throw new SregistryError(
      "You must have an Nvidia GPU cloud token to use it. Export SREGISTRY_NVIDIA_TOKEN (an NGC API key).",
      { code: "CREDENTIALS", exitCode: 1 },
    );
  }
  registerSecret(token);
  const base = parseBase(
    lookupSetting("SREGISTRY_NVIDIA_BASE", source) ?? "nvcr.io",
    "SREGISTRY_NVIDIA_BASE",
  );
  return {
    name: "nvidia",
    registry: base.registry,
    apiVersion: parseApiVersion(
      lookupSetting("SREGISTRY_NVIDIA_VERSION", source),
      "SREGISTRY_NVIDIA_VERSION",
    ),
    insecure: insecureFlag(lookupSetting("SREGISTRY_NVIDIA_NOHTTPS", source), base.insecure),
    defaultCollection: "nvidia",
    username: lookupSetting("SREGISTRY_NVIDIA_USERNAME", source) ?? "$oauthtoken",
    password: token,
  };
}

/** Docker Hub or any v2 registry: index.docker.io, optional Basic credentials or a config.json. */
function dockerSettings(source: SettingSource, home: string): BackendSettings {
  const base = parseBase(
    lookupSetting("SREGISTRY_DOCKERHUB_BASE", source) ?? "index.docker.io",
    "SREGISTRY_DOCKERHUB_BASE",
  );
  const username =
    lookupSetting("SREGISTRY_DOCKERHUB_USERNAME", source) ??
    lookupSetting("SINGULARITY_DOCKER_USERNAME", source);
  const password =
    lookupSetting("SREGISTRY_DOCKERHUB_PASSWORD", source) ??
    lookupSetting("SINGULARITY_DOCKER_PASSWORD", source);
  registerSecret(password);
  const dockerConfigPath = dockerConfig(lookupSetting("SREGISTRY_DOCKERHUB_SECRETS", source), home);
  return {
    name: "docker",
    registry: base.registry,
    apiVersion: parseApiVersion(
      lookupSetting("SREGISTRY_DOCKERHUB_VERSION", source),
      "SREGISTRY_DOCKERHUB_VERSION",
    ),
    insecure: insecureFlag(lookupSetting("SREGISTRY_DOCKERHUB_NOHTTPS", source), base.insecure),
    defaultCollection: "library",
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(dockerConfigPath === undefined ? {} : { dockerConfigPath }),
  };
}

/** The docker password variable that is set in the environment, or the one looked up by default. */
function passwordVariable(env: NodeJS.ProcessEnv): string {
  const set = (name: string): boolean => (env[name] ?? "").trim() !== "";
  if (set("SREGISTRY_DOCKERHUB_PASSWORD") || !set("SINGULARITY_DOCKER_PASSWORD"))
    return "SREGISTRY_DOCKERHUB_PASSWORD";
  return "SINGULARITY_DOCKER_PASSWORD";
}

/** `NAME (environment)` when the environment has it, else the secrets file it was read from. */
function describeOrigin(name: string, source: SettingSource, secretsPath: string): string {
  if ((source.env[name] ?? "").trim() !== "") return `${name} (environment)`;
  return `the secrets file ${secretsPath} (${source.client}.${name})`;
}

/** An explicit *_NOHTTPS wins; otherwise an `http://` base means insecure. */
function insecureFlag(value: string | undefined, fromBase: boolean): boolean {
  return parsePresenceFlag(value) ?? fromBase;
}

/** `host[:port]`, optionally written as an http(s) URL with a trailing slash. */
export function parseBase(value: string, variable: string): { registry: string; insecure: boolean } {
  const text = value.trim().toLowerCase();
  const scheme = /^(https?):\/\//.exec(text);
  const registry = (scheme ? text.slice(scheme[0].length) : text).replace(/\/+$/, "");
  if (!isRegistryHost(registry)) {
    throw new SregistryError(`${variable} must be a registry host[:port], not "${value.slice(0, 80)}"`, {
      code: "BAD_SETTING",
    });
  }
  return { registry, insecure: scheme?.[1] === "http" };
}

/** The API version path segment, default `v2`. */
function parseApiVersion(value: string | undefined, variable: string): string {
  const text = value?.trim() ?? "v2";
  if (!/^[A-Za-z0-9._-]+$/.test(text)) {
    throw new SregistryError(`${variable} must be an API version such as v2, not "${text.slice(0, 40)}"`, {
      code: "BAD_SETTING",
    });
  }
  return text;
}

/** SREGISTRY_DOCKERHUB_SECRETS: an existing docker config.json (the original crashed on it). */
function dockerConfig(value: string | undefined, home: string): string | undefined {
  const path = pathSetting(value, home);
  if (path === undefined) return undefined;
  if (!isRegularFile(path)) {
    throw new SregistryError(`the docker config file ${path} (SREGISTRY_DOCKERHUB_SECRETS) does not exist`, {
      code: "BAD_SETTING",
    });
  }
  return path;
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Variables the original copied from the environment into the secrets file, per client. */
const PERSISTED: Record<string, readonly string[]> = {
  nvidia: ["SREGISTRY_NVIDIA_TOKEN", "SREGISTRY_NVIDIA_USERNAME"],
};

/**
 * Copies the backend's credentials given in the environment into `secrets[<backend>]` of the
 * settings' secrets file (mode 0600), like the original's `_get_and_update_setting`; writes only
 * when something changed. Returns true when the file was written.
 */
export function persistBackendSecrets(
  backend: Pick<BackendSettings, "name">,
  settings: Pick<Settings, "clientSecretsPath">,
  env: NodeJS.ProcessEnv,
): boolean {
  const section = backend.name;
  const fromEnv = (PERSISTED[section] ?? []).flatMap((name) => {
    const value = env[name];
    return value !== undefined && value.trim() !== "" ? [[name, value] as const] : [];
  });
  if (fromEnv.length === 0) return false;
  const current = readSecrets(settings.clientSecretsPath);
  const stored = backendSection(current, section);
  if (fromEnv.every(([name, value]) => stored[name] === value)) return false;
  writeSecrets(settings.clientSecretsPath, {
    ...current,
    [section]: { ...stored, ...Object.fromEntries(fromEnv) },
  });
  return true;
}
