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
import { backendSettings, persistBackendSecrets, resolveClientName } from "../config/backend.js";
import type { BackendSettings } from "../config/types.js";
import { parseImageReference, type ImageReference } from "../reference/image-reference.js";
import { RegistryClient } from "../registry/client.js";
import { staticKeychain, type Keychain } from "../registry/credentials.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
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

/** Resolves backend, reference and client for an image argument such as `nvidia://caffe2:17.10`. */
export function connectRemote(ctx: Context, image: string): Remote {
  const picked = resolveClientName(image, ctx.settings);
  if (!picked.image) throw new SregistryError("you must provide an image uri, e.g. nvidia/tensorflow:17.11");
  const backend = backendSettings(picked.client, ctx.settings, ctx.env, ctx.secrets());
  persistBackendSecrets(backend, ctx.settings, ctx.env);
  const reference = parseImageReference(picked.image, {
    registry: backend.registry,
    defaultCollection: backend.defaultCollection,
  });
  const registry = new RegistryClient({
    registry: reference.registry,
    // *_NOHTTPS is the backend's transport choice, so it also covers a host named in the reference.
    insecure: backend.insecure,
    httpsNoVerify: ctx.settings.httpsNoVerify,
    keychain: keychainFor(ctx, backend, reference),
    logger: ctx.logger,
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

/** Explicit credentials apply to the backend's own registry only; then enroot's and Docker's files. */
function keychainFor(ctx: Context, backend: BackendSettings, reference: ImageReference): Keychain {
  const own: Keychain[] = [];
  if (
    backend.username !== undefined &&
    backend.password !== undefined &&
    reference.registry === backend.registry
  ) {
    own.push(staticKeychain({ username: backend.username, password: backend.password }));
  }
  return credentialChain(ctx, reference, own, backend.dockerConfigPath);
}

/** The manifest URL the original stores in the `url` column (its "selfLink"). */
export function manifestUrl(remote: Remote, tagOrDigest: string): string {
  return `${remote.baseUrl}/${remote.reference.repository}/manifests/${tagOrDigest}`;
}
