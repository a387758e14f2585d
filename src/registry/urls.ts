/**
 * Registry API URLs, built only from validated pieces: a repository name per the distribution
 * spec's grammar, a tag per its grammar, a digest via `parseDigest`. Nothing a registry or a user
 * types reaches a URL path unchecked.
 *
 * @example
 * ```ts
 * manifestUrl("https://nvcr.io", "nvidia/cuda", "12.0-base"); // https://nvcr.io/v2/nvidia/cuda/manifests/12.0-base
 * ```
 */
import { parseDigest } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function checkRepository(repo: string): string {
  if (repo.length > 255 || !REPOSITORY.test(repo)) {
    throw new SregistryError(`invalid repository name "${repo.slice(0, 80)}"`, { code: "BAD_REFERENCE" });
  }
  return repo;
}

/** A tag or a digest, validated. */
export function checkReference(reference: string): string {
  if (reference.includes(":")) return parseDigest(reference).digest;
  if (!TAG.test(reference)) {
    throw new SregistryError(`invalid tag "${reference.slice(0, 80)}"`, { code: "BAD_REFERENCE" });
  }
  return reference;
}

export function manifestUrl(baseUrl: string, repo: string, reference: string): string {
  return `${baseUrl}/v2/${checkRepository(repo)}/manifests/${checkReference(reference)}`;
}

export function blobUrl(baseUrl: string, repo: string, digest: string): string {
  return `${baseUrl}/v2/${checkRepository(repo)}/blobs/${parseDigest(digest).digest}`;
}

export function tagsUrl(baseUrl: string, repo: string, pageSize?: number): string {
  const query = pageSize !== undefined && pageSize > 0 ? `?n=${Math.floor(pageSize)}` : "";
  return `${baseUrl}/v2/${checkRepository(repo)}/tags/list${query}`;
}
