/**
 * Connects a user's image argument to a registry: picks the backend (scheme, SREGISTRY_CLIENT or
 * the secrets file), resolves its settings and credentials, parses the reference against it and
 * builds the registry client.
 *
 * @example
 * ```ts
 * const remote = connectRemote(ctx, "nvidia://tensorflow:17.11");
 * remote.reference.repository; // "nvidia/tensorflow"
 * const image = await remote.registry.resolveImage(remote.reference.repository, "17.11", ctx.settings.platform);
 * ```
 */
import {
  backendSettings,
  clientConfigured,
  persistBackendSecrets,
  resolveRegistryClient,
} from "../config/backend.js";
import { loadMirrorRules } from "../config/mirror-settings.js";
import { matchRule } from "../config/registries-conf.js";
import type { SecretsFile } from "../config/secrets.js";
import type { BackendSettings, Settings } from "../config/types.js";
import { parseImageReference, type ImageReference } from "../reference/image-reference.js";
import { RegistryClient } from "../registry/client.js";
import { staticKeychain, type Credentials, type Keychain } from "../registry/credentials.js";
import { defaultDockerConfigPath } from "../registry/docker-config.js";
import { mirrorKeychain } from "../registry/mirror-credentials.js";
import { matchName, planMirrors, type MirrorPlan } from "../registry/mirrors.js";
import { SregistryError } from "../util/errors.js";
import type { Logger } from "../util/log.js";

/** What connecting needs from the command context (api/context.ts `Context` is one). */
export interface RemoteContext {
  readonly env: NodeJS.ProcessEnv;
  readonly settings: Settings;
  readonly logger: Logger;
  secrets(): SecretsFile;
  invalidateSecrets(): void;
}
import { credentialChain } from "./credential-chain.js";

export interface Remote {
  /** Backend name as stored in the catalog's `client` column (`docker`, `nvidia`). */
  clientName: string;
  backend: BackendSettings;
  reference: ImageReference;
  registry: RegistryClient;
  /** `http(s)://<registry>/<apiVersion>` */
  baseUrl: string;
}

export interface ConnectOptions {
  /** Plain http for this command (`--insecure`), as if SREGISTRY_<CLIENT>_NOHTTPS were set. */
  insecure?: boolean;
}

/**
 * Resolves backend, reference and client for an image argument such as `nvidia://caffe2:17.10`.
 * An API key given in the environment is saved to the secrets file only once the registry (or
 * its token realm) accepted it, so a mistyped key is never kept.
 */
export function connectRemote(ctx: RemoteContext, image: string, options: ConnectOptions = {}): Remote {
  const picked = registryClient(ctx, image);
  if (!picked.image) throw new SregistryError("you must provide an image uri, e.g. nvidia/tensorflow:17.11");
  const configured = backendSettings(picked.client, ctx.settings, ctx.env, ctx.secrets());
  const backend = options.insecure ? { ...configured, insecure: true } : configured;
  const explicit = explicitCredentials(backend);
  const reference = parseImageReference(picked.image, {
    registry: backend.registry,
    defaultCollection: backend.defaultCollection,
  });
  const registry = new RegistryClient({
    registry: reference.registry,
    // *_NOHTTPS is the backend's transport choice, so it also covers a host named in the reference.
    insecure: backend.insecure,
    httpsNoVerify: ctx.settings.httpsNoVerify,
    trustedRealms: ctx.settings.trustedRealms,
    stallTimeoutMs: ctx.settings.timeouts.stallTimeoutMs,
    keychain: keychainFor(ctx, backend, reference, explicit),
    logger: ctx.logger,
    plainHttpHint: `set ${noHttpsVariable(backend)}=yes or use --insecure`,
    onCredentialsAccepted: (creds) => {
      if (creds === explicit) saveAcceptedKey(ctx, backend);
    },
    // Mirror credentials are looked up by the mirror's own host, never taken from the backend.
    mirrors: {
      plan: mirrorPlan(ctx, reference),
      headersTimeoutMs: ctx.settings.timeouts.mirrorTimeoutMs,
      keychain: mirrorKeychain(
        ctx.env,
        ctx.settings.home,
        backend.dockerConfigPath ?? defaultDockerConfigPath(ctx.env),
      ),
    },
  });
  const scheme = backend.insecure ? "http" : "https";
  return {
    clientName: backend.name,
    backend,
    reference,
    registry,
    baseUrl: `${scheme}://${reference.registry}/${backend.apiVersion}`,
  };
}

/** Mirrors of the reference from registries.conf, daemon.json and SREGISTRY_MIRRORS (config/mirror-settings.ts). */
function mirrorPlan(ctx: RemoteContext, reference: ImageReference): MirrorPlan {
  const rule = matchRule(
    loadMirrorRules(ctx.env, ctx.settings.home),
    matchName(reference.registry, reference.repository),
  );
  return planMirrors(rule, reference.registry, reference.repository, {
    byDigest: reference.digest !== undefined,
  });
}

/** The backend's own credentials (token or password), tagged with where they came from. */
function explicitCredentials(backend: BackendSettings): Credentials | undefined {
  if (backend.username === undefined || backend.password === undefined) return undefined;
  const creds: Credentials = { username: backend.username, password: backend.password };
  if (backend.credentialsSource !== undefined) creds.source = backend.credentialsSource;
  return creds;
}

/** SREGISTRY_NVIDIA_NOHTTPS or SREGISTRY_DOCKERHUB_NOHTTPS. */
function noHttpsVariable(backend: BackendSettings): string {
  return backend.name === "nvidia" ? "SREGISTRY_NVIDIA_NOHTTPS" : "SREGISTRY_DOCKERHUB_NOHTTPS";
}

/** Saves an accepted key given in the environment; a secrets file that cannot be written only warns. */
function saveAcceptedKey(ctx: RemoteContext, backend: BackendSettings): void {
  try {
    if (persistBackendSecrets(backend, ctx.settings, ctx.env)) ctx.invalidateSecrets();
  } catch (err) {
    ctx.logger.warning(`the key was not saved: ${(err as Error).message}`);
  }
}

/** Explicit credentials apply to the backend's own registry only; then enroot's and Docker's files. */
function keychainFor(
  ctx: RemoteContext,
  backend: BackendSettings,
  reference: ImageReference,
  explicit: Credentials | undefined,
): Keychain {
  const own = explicit && reference.registry === backend.registry ? [staticKeychain(explicit)] : [];
  return credentialChain(ctx, reference, own, backend.dockerConfigPath);
}

/**
 * The client and image a registry command uses for `image`: its scheme, else the configured
 * client, else docker (see config/backend.ts `resolveRegistryClient`).
 */
export function registryClient(
  ctx: RemoteContext,
  image: string,
): { client: string; image: string | undefined } {
  return resolveRegistryClient(image, ctx.settings, clientConfigured(ctx.env, ctx.secrets()));
}
