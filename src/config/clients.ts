/**
 * The backend ("client") names of the original tool and how a name is normalised.
 *
 * A name comes from a `scheme://` prefix, from SREGISTRY_CLIENT or from the secrets file. The
 * original accepted these fifteen uri schemes, plus `oras` (SIFs in OCI registries, api/oras.ts);
 * only `docker` and `nvidia` have a registry backend in this version, the others still select a
 * client name for the local catalog commands.
 *
 * @example
 * ```ts
 * normaliseClientName("google_storage"); // "google-storage"
 * normaliseClientName("shub");           // "hub"
 * isKnownClient("nvidia");               // true
 * ```
 */

/** Every scheme the original sregistry-cli recognised in `scheme://image` (one per client module it shipped), and `oras`. */
export const KNOWN_CLIENTS: readonly string[] = [
  "aws",
  "docker",
  "http",
  "https",
  "dropbox",
  "gitlab",
  "globus",
  "google-build",
  "google-storage",
  "google-drive",
  "hub",
  "nvidia",
  "oras",
  "registry",
  "s3",
  "swift",
];

/** The clients that have a registry backend here. */
export const REGISTRY_CLIENTS = ["docker", "nvidia"] as const;
export type RegistryClientName = (typeof REGISTRY_CLIENTS)[number];

/** Lower-cases, turns `_` into `-`, and maps anything containing `shub` to `hub`, as the original. */
export function normaliseClientName(name: string): string {
  const text = name.trim().toLowerCase().replace(/_/g, "-");
  return text.includes("shub") ? "hub" : text;
}

/** True for one of the names in KNOWN_CLIENTS (after normalisation). */
export function isKnownClient(name: string): boolean {
  return KNOWN_CLIENTS.includes(normaliseClientName(name));
}

/** True for `docker` and `nvidia`. */
export function isRegistryClient(name: string): name is RegistryClientName {
  return (REGISTRY_CLIENTS as readonly string[]).includes(name);
}
