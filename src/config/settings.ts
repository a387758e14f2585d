/**
 * Every global setting, resolved once per command from the environment and the secrets file.
 *
 * Variables and defaults follow the original sregistry-cli (its `SREGISTRY_*` and `SINGULARITY_*`
 * environment variables and their defaults), with these documented deviations:
 * - SINGULARITY_DISABLE_CACHE disables only the blob cache; the original also disabled the
 *   catalog and storage by mistake. SREGISTRY_DISABLE is the way to disable those.
 * - SREGISTRY_PYTHON_THREADS must be an integer from 1 to 64 (the original crashed on bad values).
 * - MESSAGELEVEL accepts numbers as well as names (the original crashed on numbers).
 * - SREGISTRY_DOCKER_ARCHITECTURE defaults to the host's architecture (Go naming) instead of
 *   `amd64`, so an arm64 host pulls arm64 images from a multi-platform index.
 * - SREGISTRY_TRUSTED_REALMS is new: token realm hosts outside a registry's domain that may
 *   receive its credentials (see registry/realm-policy.ts).
 * - An empty variable counts as unset; a leading `~` in a path variable means the home folder;
 *   relative paths are made absolute against the working directory.
 *
 * The home folder is `$HOME` when it is set to an absolute path, else the passwd entry of the
 * effective uid. The original used the passwd entry only, so users and test harnesses that point
 * HOME elsewhere had their catalog, cache and secrets written to the real home.
 *
 * Client-scoped settings (SREGISTRY_DOCKER_OS/_ARCHITECTURE/_VARIANT/_CMD, SREGISTRY_SHELL) are read
 * like the original's `_get_setting`: environment first, then `secrets[<client>][NAME]`, where the
 * client is `options.client` or else the default client.
 *
 * @example
 * ```ts
 * const settings = loadSettings();                  // process.env, real home, ~/.sregistry
 * settings.databasePath;                            // "/home/ada/.singularity/sregistry.db"
 * loadSettings({ SREGISTRY_PYTHON_THREADS: "4" }, { home: "/tmp/h", secrets: {} }).threads; // 4
 * ```
 */
import { endianness, tmpdir, userInfo, homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { SregistryError } from "../util/errors.js";
import { parseMessageLevel } from "../util/log.js";
import { registerSecret } from "../util/redact.js";
import type { Platform } from "../oci/types.js";
import { parseBoolean, parsePresenceFlag } from "./booleans.js";
import { normaliseClientName } from "./clients.js";
import { inflateLimitSetting } from "./inflate.js";
import { timeoutSettings } from "./timeouts.js";
import { backendSection, readSecrets, type SecretsFile } from "./secrets.js";
import type { Settings } from "./types.js";

export interface LoadSettingsOptions {
  /** Home folder to use instead of the passwd entry (tests). */
  home?: string;
  /** Secrets file content to use instead of reading SREGISTRY_CLIENT_SECRETS. */
  secrets?: SecretsFile;
  /** Client whose secrets section holds client-scoped settings; default: the default client. */
  client?: string;
}

/** Where one setting is looked up: the environment, then the named client's secrets section. */
export interface SettingSource {
  env: NodeJS.ProcessEnv;
  secrets: SecretsFile;
  client: string;
}

/** The password inside a database URL, so that no message ever shows it. */
function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const DEFAULT_THREADS = 9;
const MAX_THREADS = 64;

/** Resolves every setting; throws SregistryError for a bad value or an unreadable secrets file. */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadSettingsOptions = {},
): Settings {
  const home = options.home ?? effectiveHome(env);
  const clientSecretsPath = pathSetting(env.SREGISTRY_CLIENT_SECRETS, home) ?? join(home, ".sregistry");
  const secrets = options.secrets ?? readSecrets(clientSecretsPath);
  const defaultClient = resolveDefaultClient(env, secrets);
  const source: SettingSource = { env, secrets, client: options.client ?? defaultClient };
  const singularityDir = join(home, ".singularity");
  // A PostgreSQL URL puts the catalog on a server; anything else is the folder of sregistry.db.
  const databaseUrl = POSTGRES_URL.test(env.SREGISTRY_DATABASE?.trim() ?? "")
    ? env.SREGISTRY_DATABASE?.trim()
    : undefined;
  registerSecret(urlPassword(databaseUrl));
  const databaseDir = (databaseUrl ? undefined : pathSetting(env.SREGISTRY_DATABASE, home)) ?? singularityDir;
  const shell = lookupSetting("SREGISTRY_SHELL", source);
  return {
    home,
    clientSecretsPath,
    defaultClient,
    databaseDir,
    databasePath: join(databaseDir, "sregistry.db"),
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    storageDir: pathSetting(env.SREGISTRY_STORAGE, home) ?? join(singularityDir, "shub"),
    disableDatabase: parseBoolean(env.SREGISTRY_DISABLE) ?? false,
    cacheDir: pathSetting(env.SINGULARITY_CACHEDIR, home) ?? singularityDir,
    disableCache: parseBoolean(env.SINGULARITY_DISABLE_CACHE) ?? false,
    verifyCache: parseBoolean(env.SREGISTRY_VERIFY_CACHE) ?? false,
    tmpDir: pathSetting(env.SREGISTRY_TMPDIR, home) ?? tmpdir(),
    threads: parseThreads(env.SREGISTRY_PYTHON_THREADS),
    messageLevel: parseMessageLevel(env.MESSAGELEVEL),
    httpsNoVerify: parseBoolean(env.SREGISTRY_HTTPS_NOVERIFY) ?? false,
    platform: resolvePlatform(source),
    dockerCmd: parsePresenceFlag(lookupSetting("SREGISTRY_DOCKER_CMD", source)) ?? false,
    inflateLimit: inflateLimitSetting(env),
    timeouts: timeoutSettings(env),
    trustedRealms: parseTrustedRealms(lookupSetting("SREGISTRY_TRUSTED_REALMS", source)),
    ...(shell === undefined ? {} : { shell }),
  };
}

/**
 * One setting, like the original's `_get_setting`: a non-empty environment value, else a string
 * (or number/boolean, as text) under `secrets[client][name]`, else undefined.
 */
export function lookupSetting(name: string, source: SettingSource): string | undefined {
  const fromEnv = source.env[name];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv;
  const stored = backendSection(source.secrets, source.client)[name];
  if (typeof stored === "string") return stored.trim() === "" ? undefined : stored;
  if (typeof stored === "number" || typeof stored === "boolean") return String(stored);
  return undefined;
}

/** SREGISTRY_CLIENT from the environment, else the secrets file's top level, else `hub`. */
function resolveDefaultClient(env: NodeJS.ProcessEnv, secrets: SecretsFile): string {
  const fromEnv = env.SREGISTRY_CLIENT?.trim();
  if (fromEnv) return normaliseClientName(fromEnv);
  const stored = secrets.SREGISTRY_CLIENT;
  if (typeof stored === "string" && stored.trim() !== "") return normaliseClientName(stored);
  return "hub";
}

/** `$HOME` when it is an absolute path, else the passwd home of the effective uid. */
export function effectiveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.HOME?.trim();
  if (fromEnv && isAbsolute(fromEnv)) return resolve(fromEnv);
  try {
    return userInfo().homedir;
  } catch {
    return homedir();
  }
}

/** An absolute path from a path variable (`~` expanded); undefined when unset or empty. */
export function pathSetting(value: string | undefined, home: string): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (text === "~") return home;
  if (text.startsWith("~/")) return join(home, text.slice(2));
  return isAbsolute(text) ? resolve(text) : resolve(process.cwd(), text);
}

/** SREGISTRY_PYTHON_THREADS: an integer from 1 to 64, default 9. */
export function parseThreads(value: string | undefined): number {
  const text = value?.trim();
  if (!text) return DEFAULT_THREADS;
  const threads = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new SregistryError(
      `SREGISTRY_PYTHON_THREADS must be a whole number from 1 to ${MAX_THREADS}, not "${text.slice(0, 40)}"`,
      { code: "BAD_SETTING" },
    );
  }
  return threads;
}

/**
 * SREGISTRY_TRUSTED_REALMS: comma-separated `host` or `host:port` entries, lower-cased; token realms
 * on these hosts may receive credentials although they are outside the registry's domain
 * (registry/realm-policy.ts). A scheme or path in an entry is refused rather than guessed at.
 */
export function parseTrustedRealms(value: string | undefined): string[] {
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase().replace(/\.$/, ""))
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    if (
      !/^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/.test(entry)
    ) {
      throw new SregistryError(
        `SREGISTRY_TRUSTED_REALMS must list host names such as auth.example.com, not "${entry.slice(0, 80)}"`,
        { code: "BAD_SETTING" },
      );
    }
  }
  return entries;
}

/** SREGISTRY_DOCKER_OS (linux), _ARCHITECTURE (the host's) and _VARIANT (unset unless given). */
function resolvePlatform(source: SettingSource): Platform {
  const os = lookupSetting("SREGISTRY_DOCKER_OS", source)?.trim().toLowerCase() ?? "linux";
  const arch = lookupSetting("SREGISTRY_DOCKER_ARCHITECTURE", source);
  const variant = lookupSetting("SREGISTRY_DOCKER_VARIANT", source)?.trim().toLowerCase();
  const architecture = arch === undefined ? hostArchitecture() : normaliseArchitecture(arch);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Common spellings from `uname -m` and distributions mapped to the OCI (Go) names. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  x64: "amd64",
  aarch64: "arm64",
  i386: "386",
  i686: "386",
  ia32: "386",
};

/** Lower-cases a user-given architecture and maps aliases (x86_64 → amd64, aarch64 → arm64). */
export function normaliseArchitecture(value: string): string {
  const text = value.trim().toLowerCase();
  return ARCH_ALIASES[text] ?? text;
}

/** Node's `process.arch` in the Go/OCI naming used by image indexes. */
export function hostArchitecture(arch: string = process.arch, byteOrder: "BE" | "LE" = endianness()): string {
  switch (arch) {
    case "x64":
      return "amd64";
    case "ia32":
      return "386";
    case "ppc64":
      return byteOrder === "LE" ? "ppc64le" : "ppc64";
    case "mipsel":
      return "mipsle";
    default:
      // arm, arm64, s390x, riscv64, loong64, mips already have their Go names.
      return arch;
  }
}
