/**
 * Where registry credentials come from: a `Keychain` answers "what are the credentials for this
 * registry?". Explicit credentials (SREGISTRY_NVIDIA_TOKEN, the secrets file) come first; Docker's
 * config.json (see docker-config.ts) is the fallback. Every secret handed out is registered with
 * `registerSecret` so that logs and errors can never show it.
 *
 * @example
 * ```ts
 * const keychain = chainKeychains(
 *   staticKeychain({ username: "$oauthtoken", password: apiKey }),
 *   dockerConfigKeychain(),
 * );
 * const creds = await keychain.resolve("nvcr.io");
 * ```
 */
import { registerSecret } from "../util/redact.js";

export interface Credentials {
  username: string;
  password: string;
  /** A Docker `identitytoken`: an OAuth2 refresh token exchanged at the token realm (POST). */
  identityToken?: string;
  /**
   * Where these credentials came from, for messages: `SREGISTRY_NVIDIA_TOKEN (environment)`,
   * `the secrets file /home/ada/.sregistry`, `docker config /home/ada/.docker/config.json`, ...
   */
  source?: string;
}

export interface Keychain {
  /** Credentials for `registry` (`host[:port]`), or undefined for anonymous access. */
  resolve(registry: string): Promise<Credentials | undefined>;
}

/** The same credentials (the very object given) for every registry, or none when `creds` is undefined or empty. */
export function staticKeychain(creds: Credentials | undefined): Keychain {
  const usable = creds && (creds.password !== "" || creds.identityToken) ? creds : undefined;
  if (usable) registerCredentials(usable);
  return { resolve: async () => usable };
}

/** The first keychain that has credentials wins. */
export function chainKeychains(...keychains: (Keychain | undefined)[]): Keychain {
  return {
    async resolve(registry) {
      for (const keychain of keychains) {
        const creds = await keychain?.resolve(registry);
        if (creds) return creds;
      }
      return undefined;
    },
  };
}

/** A keychain with no credentials at all. */
export const anonymousKeychain: Keychain = { resolve: async () => undefined };

/** Registers the secret parts of credentials with the redactor. */
export function registerCredentials(creds: Credentials): void {
  registerSecret(creds.password);
  registerSecret(creds.identityToken);
  registerSecret(Buffer.from(`${creds.username}:${creds.password}`).toString("base64"));
}
