/**
 * The small grammar pieces image references and catalog uris share: registry hosts, repository
 * path components, tags, scheme prefixes, image-file extensions.
 *
 * Path components and tags follow the distribution reference grammar (the one Docker and every
 * OCI registry enforce), so a name that passes here is safe in a URL and in a storage path.
 *
 * @example
 * ```ts
 * isRegistryHost("127.0.0.1:5000");   // true
 * isPathComponent("clara-parabricks"); // true
 * splitTag("nvidia/tensorflow:18.01-py3"); // { path: "nvidia/tensorflow", tag: "18.01-py3" }
 * stripImageExtension("ubuntu.sif");  // "ubuntu"
 * ```
 */

/** A repository path component: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*$/;

/** A tag: a word character then up to 127 word characters, dots or dashes. */
const TAG = /^\w[\w.-]{0,127}$/;

/** host[:port]: DNS labels (or a bracketed IPv6 address) and an optional port. */
const HOST =
  /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::\d{1,5})?$/i;

/** A `scheme://` prefix as the original recognised it (anything up to `://`). */
const SCHEME = /^[a-z0-9+._-]*:\/\//i;

/** Image-file extensions the original removed from names (`vsoch/hello-world.simg`). */
const IMAGE_EXTENSION = /\.(?:sif|simg|img)$/i;

/** The host names of Docker Hub, all equivalent. */
export const DOCKER_HUB_HOSTS: ReadonlySet<string> = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
]);

export function isPathComponent(value: string): boolean {
  return PATH_COMPONENT.test(value);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function isRegistryHost(value: string): boolean {
  return HOST.test(value);
}

/** True for Docker Hub under any of its names, also written as a URL (`https://docker.io/v2`). */
export function isDockerHub(registry: string): boolean {
  const host = registry
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  return DOCKER_HUB_HOSTS.has(host);
}

/** Docker's rule: a first segment is a registry if it has a `.` or a `:` or is `localhost`. */
export function looksLikeRegistry(segment: string): boolean {
  return segment.includes(".") || segment.includes(":") || segment.toLowerCase() === "localhost";
}

/** Removes a leading `scheme://`. */
export function stripScheme(value: string): string {
  return value.replace(SCHEME, "");
}

/**
 * Removes one `.sif`/`.simg`/`.img` at the very end only. The original removed these anywhere in
 * the string, which broke names such as `my.img-tools`; callers apply this to the end of the name
 * and to the end of the whole reference (a file-like `ubuntu:18.04.sif`).
 */
export function stripImageExtension(value: string): string {
  return value.replace(IMAGE_EXTENSION, "");
}

/** Splits `path[:tag]`; a `:` before the last `/` belongs to a host port, not a tag. */
export function splitTag(value: string): { path: string; tag: string | undefined } {
  const colon = value.lastIndexOf(":");
  if (colon <= value.lastIndexOf("/")) return { path: value, tag: undefined };
  return { path: value.slice(0, colon), tag: value.slice(colon + 1) };
}

/** Splits `rest[@suffix]` at the first `@`. */
export function splitAt(value: string): { rest: string; suffix: string | undefined } {
  const at = value.indexOf("@");
  if (at < 0) return { rest: value, suffix: undefined };
  return { rest: value.slice(0, at), suffix: value.slice(at + 1) };
}

/** Shortens a user value for an error message. */
export function shown(value: string): string {
  return value.length > 120 ? value.slice(0, 120) + "..." : value;
}
