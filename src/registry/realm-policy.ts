/**
 * Where credentials may go: the rule a token realm named by a registry's 401 challenge must pass
 * before the user's credentials (an NGC API key, Docker config.json credentials) are sent to it.
 *
 * The challenge is written by the registry, so a hostile or compromised registry could name any
 * realm. Credentials go to a realm only when both hold:
 * - **scheme**: the realm is `https:`; plain `http:` only when the registry itself is configured
 *   insecure *and* the realm is on the registry's own host (a local test registry and its issuer);
 * - **host**: the realm's host is the registry's host, or of the same registrable domain per the
 *   Public Suffix List with its private section (registry-1.docker.io → auth.docker.io, both
 *   docker.io; but a.github.io and b.github.io differ), or a known pair whose realm lives under
 *   another domain (nvcr.io → authn.nvidia.com), or a host the user trusts with
 *   SREGISTRY_TRUSTED_REALMS (`host` or `host:port`, comma-separated). Trusting a host never
 *   allows plain http.
 * Anonymous token requests carry nothing secret and may go wherever the challenge says.
 *
 * The registrable domain comes from `tldts` (the Public Suffix List, shipped inside the package),
 * the same list browsers use to scope cookies. An IP address or a single-label name has no
 * registrable domain and matches only itself.
 *
 * @example
 * ```ts
 * checkRealmForCredentials(new URL("https://auth.docker.io/token"), { registry: "registry-1.docker.io" }); // ok
 * checkRealmForCredentials(new URL("https://evil.example/t"), { registry: "nvcr.io" }); // throws UNTRUSTED_REALM
 * ```
 */
import { getDomain } from "tldts";
import { SregistryError } from "../util/errors.js";

export interface RealmPolicy {
  /** The registry's `host[:port]` as contacted. */
  registry: string;
  /** The registry is configured insecure (plain http). */
  insecure?: boolean;
  /** SREGISTRY_TRUSTED_REALMS: `host` or `host:port` entries, lower case. */
  trustedRealms?: readonly string[];
}

/**
 * Realms known to live under another registrable domain than their registry. NGC's registry
 * nvcr.io authenticates API keys at authn.nvidia.com (NGC's documented authentication service).
 */
const KNOWN_REALM_HOSTS: Readonly<Record<string, readonly string[]>> = {
  "nvcr.io": ["authn.nvidia.com"],
};

/** Throws a one-line SregistryError when credentials must not be sent to `realm`. */
export function checkRealmForCredentials(realm: URL, policy: RealmPolicy): void {
  const registryHost = hostnameOf(policy.registry);
  const realmHost = normaliseHost(realm.hostname);
  if (realm.protocol !== "https:") {
    if (policy.insecure && realmHost === registryHost) return;
    throw new SregistryError(
      `refusing to send credentials for ${policy.registry} to the plain-http token realm ${realm.host}: ` +
        `a realm must be https (http only on the host of a registry configured insecure)`,
      { code: "UNTRUSTED_REALM" },
    );
  }
  if (isAllowedRealmHost(realm, registryHost, policy.trustedRealms ?? [])) return;
  throw new SregistryError(
    `refusing to send credentials for ${policy.registry} to the token realm ${realm.host}, ` +
      `which is not on the registry's domain; if you trust it, set SREGISTRY_TRUSTED_REALMS=${realm.host}`,
    { code: "UNTRUSTED_REALM" },
  );
}

/** True when an https realm's host may receive the registry's credentials (see the module doc). */
export function isAllowedRealmHost(realm: URL, registryHost: string, trusted: readonly string[]): boolean {
  const realmHost = normaliseHost(realm.hostname);
  if (realmHost === registryHost) return true;
  if (KNOWN_REALM_HOSTS[registryHost]?.includes(realmHost)) return true;
  if (trusted.some((entry) => entry === realmHost || entry === normaliseHost(realm.host))) return true;
  const registryDomain = registrableDomain(registryHost);
  return registryDomain !== undefined && registryDomain === registrableDomain(realmHost);
}

/** The registrable domain (eTLD+1) of a host name, or undefined for IP addresses and single labels. */
export function registrableDomain(host: string): string | undefined {
  return getDomain(host, { allowPrivateDomains: true }) ?? undefined;
}

/** `host` of a `host[:port]` (IPv6 brackets dropped), lower case, without a trailing dot. */
function hostnameOf(hostPort: string): string {
  return normaliseHost(new URL(`https://${hostPort}`).hostname);
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, "");
}
