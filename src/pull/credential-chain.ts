/**
 * The credential sources of a registry request, in order: the caller's own (the backend's
 * explicit credentials, for its registry only), enroot's `.credentials`, then Docker's
 * config.json. An enroot-style `USER@` in the reference keeps only credentials with that login
 * and makes "none" an error that says where to add them.
 *
 * @example
 * ```ts
 * const keychain = credentialChain(ctx, reference, [staticKeychain(creds)], backend.dockerConfigPath);
 * ```
 */
import { parseBoolean } from "../config/booleans.js";
import type { ImageReference } from "../reference/image-reference.js";
import { chainKeychains, type Keychain } from "../registry/credentials.js";
import { defaultDockerConfigPath, dockerConfigKeychain } from "../registry/docker-config.js";
import {
  defaultEnrootCredentialsPath,
  enrootKeychain,
  loginKeychain,
} from "../registry/enroot-credentials.js";
import type { RemoteContext as Context } from "./remote.js";

export function credentialChain(
  ctx: Context,
  reference: ImageReference,
  own: Keychain[],
  dockerConfigPath?: string,
): Keychain {
  const env = ctx.env;
  const enrootPath = defaultEnrootCredentialsPath(env);
  const chain = [
    ...own,
    enrootKeychain({
      path: enrootPath,
      env,
      evaluate: parseBoolean(env.SREGISTRY_ENROOT_EVAL) === true,
      logger: ctx.logger,
      ...(reference.user !== undefined ? { login: reference.user } : {}),
    }),
    dockerConfigKeychain(dockerConfigPath ?? defaultDockerConfigPath(env)),
  ];
  if (reference.user === undefined) return chainKeychains(...chain);
  const machine = reference.registry.replace(/:\d+$/, "");
  const hint = `add "machine ${machine} login ${reference.user} password ..." to ${enrootPath}`;
  return loginKeychain(chain, reference.user, hint);
}
