/**
 * The registry layer's public face: the client, its building blocks and the image model.
 *
 * @example
 * ```ts
 * import { RegistryClient, chainKeychains, staticKeychain, dockerConfigKeychain } from "../registry/index.js";
 * const client = new RegistryClient({
 *   registry: "nvcr.io",
 *   keychain: chainKeychains(staticKeychain({ username: "$oauthtoken", password: key }), dockerConfigKeychain()),
 * });
 * ```
 */
export {
  RegistryClient,
  type RegistryClientOptions,
  type ResolvedImage,
  type OpenBlobOptions,
} from "./client.js";
export type { OpenedBlob } from "./blob.js";
export type { FetchedManifest } from "./manifest.js";
export type { ManifestKind } from "./manifest-parse.js";
export {
  anonymousKeychain,
  chainKeychains,
  staticKeychain,
  type Credentials,
  type Keychain,
} from "./credentials.js";
export { dockerConfigKeychain, defaultDockerConfigPath } from "./docker-config.js";
export { createHttpTransport, header, type HttpRequest, type HttpResponse, type Transport } from "./http.js";
export { defaultRetryOptions, type RetryOptions } from "./retry.js";
export { TokenCache } from "./token.js";
export { formatPlatform, normalizePlatform, selectPlatform } from "./platform.js";
export { isDockerHub, registryBaseUrl } from "./scheme.js";
export { schema1ToImage } from "./schema1.js";
export * from "./types.js";
