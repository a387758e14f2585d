/**
 * A `Keychain` over Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`, or an explicit path such as SREGISTRY_DOCKERHUB_SECRETS).
 *
 * Lookup order for a registry, like the Docker CLI: `credHelpers[host]`, then `credsStore`, then
 * `auths` (`auth` = base64 `user:pass`, or `username`/`password`, or `identitytoken`). Keys match by
 * host whether written `nvcr.io`, `https://nvcr.io` or `https://nvcr.io/v1/`; Docker Hub is found
 * under any of its names (`https://index.docker.io/v1/`, `docker.io`, `registry-1.docker.io`, ...).
 * The file is read lazily on first use; a missing file means no credentials. A helper that is
 * named but not installed is an error only when a lookup actually needs it.
 *
 * @example
 * ```ts
 * const creds = await dockerConfigKeychain().resolve("nvcr.io");
 * ```
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { registerCredentials, type Credentials, type Keychain } from "./credentials.js";
import { runCredentialHelper } from "./cred-helper.js";
import { isDockerHub } from "../reference/grammar.js";

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

const DOCKER_HUB_SERVER = "https://index.docker.io/v1/";

/** The default config.json location. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

export function dockerConfigKeychain(path?: string): Keychain {
  const file = path ?? defaultDockerConfigPath();
  let loaded: Promise<DockerConfig | undefined> | undefined;
  return {
    async resolve(registry) {
      loaded ??= loadConfig(file);
      const config = await loaded;
      return config ? lookup(config, registry, file) : undefined;
    },
  };
}

async function loadConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (isErrnoCode(err, "ENOENT") || isErrnoCode(err, "ENOTDIR")) return undefined;
    throw new SregistryError(`cannot read docker config ${file}: ${(err as Error).message}`, {
      code: "CREDENTIALS",
    });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    return parsed as DockerConfig;
  } catch {
    throw new SregistryError(`docker config ${file} is not valid JSON`, { code: "CREDENTIALS" });
  }
}

async function lookup(
  config: DockerConfig,
  registry: string,
  file: string,
): Promise<Credentials | undefined> {
  const wanted = hostKey(registry);
  const helper = findByHost(config.credHelpers ?? {}, wanted);
  if (typeof helper === "string" && helper !== "") return runCredentialHelper(helper, serverUrl(registry));
  if (typeof config.credsStore === "string" && config.credsStore !== "") {
    const creds = await runCredentialHelper(config.credsStore, serverUrl(registry));
    if (creds) return creds;
  }
  const entry = findByHost(config.auths ?? {}, wanted);
  return entry ? fromAuthEntry(entry, file) : undefined;
}

function fromAuthEntry(entry: AuthEntry, file: string): Credentials | undefined {
  let username = entry.username ?? "";
  let password = entry.password ?? "";
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0)
      throw new SregistryError(`malformed "auth" entry in docker config ${file}`, { code: "CREDENTIALS" });
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const creds: Credentials = { username, password, source: `docker config ${file}` };
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "")
    creds.identityToken = entry.identitytoken;
  if (creds.password === "" && !creds.identityToken) return undefined;
  registerCredentials(creds);
  return creds;
}

/** The comparable form of a config key or registry: host[:port], lower case; Docker Hub collapsed. */
function hostKey(value: string): string {
  const host = value
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  return isDockerHub(host) ? "docker.io" : host;
}

function findByHost<T>(map: Record<string, T>, wanted: string): T | undefined {
  for (const [key, value] of Object.entries(map)) if (hostKey(key) === wanted) return value;
  return undefined;
}

/** What the Docker CLI passes to helpers: the v1 URL for Docker Hub, else the host. */
function serverUrl(registry: string): string {
  return isDockerHub(hostKey(registry)) ? DOCKER_HUB_SERVER : hostKey(registry);
}
