/**
 * The keychain of mirrors: credentials found by the mirror's own host, in the files the container
 * tools that share registries.conf write (`podman login`, `skopeo login`), then Docker's
 * config.json (`docker login`). Never the backend's explicit credentials (SREGISTRY_NVIDIA_TOKEN,
 * `*_PASSWORD`): those belong to the origin.
 *
 * Order, as containers-auth.json(5) reads them: `$REGISTRY_AUTH_FILE`, else
 * `$XDG_RUNTIME_DIR/containers/auth.json`; then `$XDG_CONFIG_HOME/containers/auth.json`
 * (`~/.config/containers/auth.json`); then Docker's config.json. The files share Docker's format
 * (`auths`, `credHelpers`), so docker-config.ts reads them all.
 *
 * @example
 * ```ts
 * const keychain = mirrorKeychain(process.env, "/home/ada/.docker/config.json");
 * await keychain.resolve("cache.site.example:5000"); // what `podman login cache.site.example:5000` stored
 * ```
 */
import { join } from "node:path";
import { chainKeychains, type Keychain } from "./credentials.js";
import { dockerConfigKeychain } from "./docker-config.js";

/** The containers-auth.json files that apply, in lookup order. */
export function containersAuthFiles(env: NodeJS.ProcessEnv, home: string): string[] {
  const files: string[] = [];
  const named = env.REGISTRY_AUTH_FILE?.trim();
  const runtime = env.XDG_RUNTIME_DIR?.trim();
  if (named) files.push(named);
  else if (runtime) files.push(join(runtime, "containers", "auth.json"));
  const config = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || home, ".config");
  files.push(join(config, "containers", "auth.json"));
  return files;
}

/** Credentials for mirror hosts: containers-auth.json files, then Docker's config.json. */
export function mirrorKeychain(env: NodeJS.ProcessEnv, home: string, dockerConfigPath: string): Keychain {
  return chainKeychains(
    ...containersAuthFiles(env, home).map((file) => dockerConfigKeychain(file)),
    dockerConfigKeychain(dockerConfigPath),
  );
}
