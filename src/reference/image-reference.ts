/**
 * Image references (`[registry/]path[:tag][@digest]`) parsed and normalised the way Docker does,
 * with the original tool's defaults and lower-casing.
 *
 * - The first segment is a registry only if it has a `.` or `:` or is `localhost`; otherwise the
 *   backend's registry applies (`nvcr.io`, `index.docker.io`). Docker Hub's three host names
 *   normalise to the backend's registry when that is Docker Hub.
 * - A single-segment name gets `library/` on Docker Hub, or the backend's default collection on
 *   the backend's own registry (`tensorflow` on nvidia → `nvidia/tensorflow`). On any other
 *   registry (`127.0.0.1:5000/bar`) the repository stays `bar`.
 * - Every segment is kept (`nvidia/clara/clara-parabricks`: collection `nvidia/clara`); the
 *   original took the first of three segments for a registry and mis-parsed such names.
 * - Repository, tag and registry are lower-cased like the original (so `Library/Ubuntu:Bionic`
 *   is `library/ubuntu:bionic`); note that a registry tag with upper-case letters cannot be pulled.
 * - One `.sif`/`.simg`/`.img` is removed from the end of the name and from the end of the whole
 *   reference only (the original removed them anywhere).
 * - A digest is validated (`parseDigest`); with both a tag and a digest, both are kept and the
 *   digest wins for fetching (`referenceTarget`).
 * - enroot's `[USER@][REGISTRY#]IMAGE[:TAG]` is accepted too (see enroot.ts): `nvcr.io#nvidia/pytorch`
 *   names the registry explicitly, and `USER@` is kept as `user` (the login to authenticate as).
 *
 * @example
 * ```ts
 * const ref = parseImageReference("tensorflow:18.01-py3", { registry: "nvcr.io", defaultCollection: "nvidia" });
 * ref.repository;          // "nvidia/tensorflow"
 * formatReference(ref);    // "nvcr.io/nvidia/tensorflow:18.01-py3"
 * referenceTarget(ref);    // "18.01-py3"
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { parseDigest, type Digest } from "../oci/digest.js";
import { isEnrootUser, splitEnrootPrefix } from "./enroot.js";
import {
  isDockerHub,
  isPathComponent,
  isRegistryHost,
  isTag,
  looksLikeRegistry,
  shown,
  splitAt,
  splitTag,
  stripImageExtension,
  stripScheme,
} from "./grammar.js";

export interface ImageReference {
  /** Registry host[:port], lower-case, e.g. `nvcr.io`, `index.docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Path on the registry, e.g. `nvidia/clara/clara-parabricks`, `library/ubuntu`. */
  repository: string;
  /**
   * Catalog collection: all but the last path segment (`nvidia/clara`). For a single-segment
   * repository on a foreign registry (`127.0.0.1:5000/bar`) it is the default collection, so the
   * catalog never gets an empty collection.
   */
  collection: string;
  /** Last path segment. */
  name: string;
  /** Tag, `latest` when none was given. */
  tag: string;
  /** Content digest when given with `@`; it wins over the tag for fetching. */
  digest?: Digest;
  /** enroot's `USER@`: the login whose credentials to use for this registry. */
  user?: string;
}

export interface ReferenceDefaults {
  /** The backend's registry (`nvcr.io`, `index.docker.io`). */
  registry: string;
  /** The backend's collection for single-segment names (`nvidia`, `library`). */
  defaultCollection: string;
}

/** Maximum length of `registry/repository`, as in the distribution grammar. */
const MAX_NAME_LENGTH = 255;

/** Parses and normalises a reference; a bad one is a SregistryError naming it. */
export function parseImageReference(input: string, defaults: ReferenceDefaults): ImageReference {
  const text = input.trim();
  const fail = (reason: string): never => {
    throw new SregistryError(`invalid image reference "${shown(text)}": ${reason}`, {
      code: "BAD_REFERENCE",
    });
  };
  if (text === "") fail("empty");
  const enroot = splitEnrootPrefix(stripScheme(text));
  if (enroot.user !== undefined && !isEnrootUser(enroot.user)) fail(`bad user "${shown(enroot.user)}"`);
  if (enroot.registry === "") fail("empty registry before #");
  const { rest, suffix } = splitAt(enroot.image);
  const digest = suffix === undefined ? undefined : checkedDigest(suffix, fail);
  const { path, tag } = splitTag(stripImageExtension(rest));
  if (tag !== undefined && !isTag(tag)) fail(`bad tag "${shown(tag)}"`);
  const segments = stripImageExtension(path).split("/");
  const hasRegistry = enroot.registry === undefined && segments.length > 1 && looksLikeRegistry(segments[0]!);
  const host = enroot.registry ?? (hasRegistry ? segments.shift()! : defaults.registry);
  const registry = normaliseRegistry(host, defaults, fail);
  const repoSegments = segments.map((segment) => segment.toLowerCase());
  for (const segment of repoSegments) {
    if (!isPathComponent(segment))
      fail(segment === "" ? "empty path component" : `bad name component "${segment}"`);
  }
  if (repoSegments.length === 1) repoSegments.unshift(...implicitCollection(registry, defaults));
  const repository = repoSegments.join("/");
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) fail(`name longer than ${MAX_NAME_LENGTH}`);
  const name = repoSegments[repoSegments.length - 1]!;
  const collection = repoSegments.slice(0, -1).join("/") || defaults.defaultCollection || "library";
  const ref: ImageReference = {
    registry,
    repository,
    collection,
    name,
    // Tags are case-sensitive in registries: keep the user's case for fetching. The catalog
    // lower-cases it (catalogUriFromReference), as the original did.
    tag: tag ?? "latest",
  };
  if (digest !== undefined) ref.digest = digest;
  if (enroot.user !== undefined) ref.user = enroot.user;
  return ref;
}

/** Lower-cases and validates a digest; the error names the reference. */
function checkedDigest(value: string, fail: (reason: string) => never): Digest {
  try {
    return parseDigest(value.toLowerCase()).digest;
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** Lower-cases a host and maps Docker Hub's names to the backend's when it is Docker Hub. */
function normaliseRegistry(
  host: string,
  defaults: ReferenceDefaults,
  fail: (reason: string) => never,
): string {
  const registry = host.toLowerCase();
  if (!isRegistryHost(registry)) fail(`bad registry host "${shown(host)}"`);
  const fallback = defaults.registry.toLowerCase();
  return isDockerHub(registry) && isDockerHub(fallback) ? fallback : registry;
}

/** The collection a single-segment name gets: `library` on Docker Hub, the default on the default registry. */
function implicitCollection(registry: string, defaults: ReferenceDefaults): string[] {
  if (isDockerHub(registry)) return ["library"];
  if (registry === defaults.registry.toLowerCase() && defaults.defaultCollection) {
    return [defaults.defaultCollection.toLowerCase()];
  }
  return [];
}

/** Canonical `registry/repository:tag[@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}:${ref.tag}${ref.digest ? `@${ref.digest}` : ""}`;
}

/**
 * For display: `repository:tag[@digest]`, prefixed with the registry unless it is `defaultRegistry`
 * (the backend's), e.g. `nvidia/tensorflow:17.11` or `127.0.0.1:5000/foo/bar:1`.
 */
export function referenceToString(ref: ImageReference, defaultRegistry?: string): string {
  const short = `${ref.repository}:${ref.tag}${ref.digest ? `@${ref.digest}` : ""}`;
  return defaultRegistry !== undefined && ref.registry === defaultRegistry.toLowerCase()
    ? short
    : `${ref.registry}/${short}`;
}

/** What to ask the registry for: the digest when there is one, else the tag. */
export function referenceTarget(ref: ImageReference): string {
  return ref.digest ?? ref.tag;
}
