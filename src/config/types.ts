/**
 * The shape of every setting the tool reads, resolved once per command by `loadSettings`.
 * Names of the environment variables are given next to each field.
 */
import type { Platform } from "../oci/types.js";

export interface Settings {
  /** Home directory: `$HOME` when set (absolute), else the passwd entry of the effective user. */
  home: string;
  /** SREGISTRY_CLIENT_SECRETS, default `~/.sregistry`: the secrets/settings JSON file. */
  clientSecretsPath: string;
  /** Default backend: SREGISTRY_CLIENT, else `SREGISTRY_CLIENT` in the secrets file, else `hub`. */
  defaultClient: string;
  /** SREGISTRY_DATABASE (a folder), default `~/.singularity`. */
  databaseDir: string;
  /**
   * SREGISTRY_DATABASE when it is a `postgresql://` or `postgres://` URL: the catalog lives in that
   * PostgreSQL database (databaseDir/databasePath then keep their defaults, unused by the catalog).
   */
  databaseUrl?: string;
  /** `<databaseDir>/sregistry.db`. */
  databasePath: string;
  /** SREGISTRY_STORAGE, default `~/.singularity/shub` (not derived from SREGISTRY_DATABASE). */
  storageDir: string;
  /** SREGISTRY_DISABLE: no catalog and no storage; pulls leave the file where it was built. */
  disableDatabase: boolean;
  /** SINGULARITY_CACHEDIR, default `~/.singularity`: root of the blob cache. */
  cacheDir: string;
  /** SINGULARITY_DISABLE_CACHE: use a throw-away blob cache for this command. */
  disableCache: boolean;
  /** SREGISTRY_VERIFY_CACHE: re-hash cached blobs before use (always done in a group-shared cache). */
  verifyCache: boolean;
  /** SREGISTRY_TMPDIR, default the OS temp dir (honours TMPDIR). */
  tmpDir: string;
  /** SREGISTRY_PYTHON_THREADS, default 9: parallel layer downloads. */
  threads: number;
  /** MESSAGELEVEL as a number (see util/log.ts). */
  messageLevel: number;
  /** SREGISTRY_HTTPS_NOVERIFY: do not verify TLS certificates. */
  httpsNoVerify: boolean;
  /** SREGISTRY_DOCKER_OS / _ARCHITECTURE / _VARIANT: the platform to pick from an index. */
  platform: Platform;
  /** SREGISTRY_DOCKER_CMD: prefer CMD over ENTRYPOINT for the runscript (original semantics). */
  dockerCmd: boolean;
  /** SREGISTRY_TRUSTED_REALMS: realm hosts (`host[:port]`) trusted with credentials beyond the registry's domain. */
  trustedRealms: string[];
  /** SREGISTRY_SHELL, if set. */
  shell?: string;
  /** SREGISTRY_INFLATE_RATIO / SREGISTRY_INFLATE_FLOOR: how far one layer may inflate. */
  inflateLimit: InflateLimitSetting;
  /** SREGISTRY_MIRROR_TIMEOUT / SREGISTRY_STALL_TIMEOUT (config/timeouts.ts). */
  timeouts: TimeoutSettings;
}

/** Network timeouts in milliseconds (config/timeouts.ts). */
export interface TimeoutSettings {
  /** Time a mirror has to answer with headers before the next source is tried. */
  mirrorTimeoutMs: number;
  /** Time a registry connection may take to open or stay silent before the attempt counts as stalled. */
  stallTimeoutMs: number;
}

/** A layer may inflate to `max(floorBytes, ratio × its compressed size)` (config/inflate.ts). */
export interface InflateLimitSetting {
  ratio: number;
  floorBytes: number;
}

/** A registry backend ("client" in the original): configuration over the one registry client. */
export interface BackendSettings {
  name: "docker" | "nvidia";
  /** Registry host[:port]: SREGISTRY_NVIDIA_BASE (nvcr.io) or SREGISTRY_DOCKERHUB_BASE (index.docker.io). */
  registry: string;
  /** SREGISTRY_NVIDIA_VERSION / SREGISTRY_DOCKERHUB_VERSION, default v2. */
  apiVersion: string;
  /** SREGISTRY_NVIDIA_NOHTTPS / SREGISTRY_DOCKERHUB_NOHTTPS parsed as a boolean: plain http. */
  insecure: boolean;
  /** Collection used when a reference has none: `nvidia` or `library`. */
  defaultCollection: string;
  /** Explicit credentials (nvidia: SREGISTRY_NVIDIA_USERNAME/$oauthtoken + SREGISTRY_NVIDIA_TOKEN). */
  username?: string;
  password?: string;
  /** Where `password` came from, for messages: `SREGISTRY_NVIDIA_TOKEN (environment)` or the secrets file. */
  credentialsSource?: string;
  /** SREGISTRY_DOCKERHUB_SECRETS: a docker config.json to read credentials from. */
  dockerConfigPath?: string;
}
