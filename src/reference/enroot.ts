/**
 * enroot's reference syntax, `[USER@][REGISTRY#]IMAGE[:TAG]` (after `docker://`), as `enroot
 * import` and Pyxis' `--container-image` accept it (enroot src/docker.sh, `docker::_parse_uri`):
 * `#` separates the registry from the image path, and `USER@` names the login whose credentials
 * to use. Only the prefix is split here; the image part follows the usual grammar.
 *
 * - `nvcr.io#nvidia/pytorch:24.01-py3` → registry `nvcr.io`, image `nvidia/pytorch:24.01-py3`.
 * - `$oauthtoken@nvcr.io#nvidia/pytorch` → user `$oauthtoken` as well.
 * - `alice@ubuntu:22.04` → user `alice`, image `ubuntu:22.04` on the default registry.
 * - `ubuntu@sha256:…` stays a digest reference: a `@` followed by `sha256:`/`sha512:` is a digest.
 *
 * @example
 * ```ts
 * splitEnrootPrefix("$oauthtoken@nvcr.io#nvidia/pytorch:24.01-py3");
 * // { user: "$oauthtoken", registry: "nvcr.io", image: "nvidia/pytorch:24.01-py3" }
 * splitEnrootPrefix("library/ubuntu:22.04"); // { image: "library/ubuntu:22.04" }
 * ```
 */

export interface EnrootPrefix {
  /** The login named with `USER@`. */
  user?: string;
  /** The registry named with `REGISTRY#` (not yet validated or lower-cased). */
  registry?: string;
  /** What follows: `path[:tag][@digest]`. */
  image: string;
}

/** enroot's user characters (RFC 3986 userinfo without `@`), e.g. `$oauthtoken`, `AWS`, `_json_key`. */
const USER = /^[A-Za-z0-9_.!~*'()%;:&=+$,-]+$/;

/**
 * What reads as a digest after `@` (so `image@<digest>` is never taken for `USER@image`): an
 * `algorithm:` prefix we accept, or a long hex value with or without any algorithm, or nothing.
 * A bad digest then gets the digest error instead of becoming an odd image name.
 */
const DIGEST_LIKE = /^(?:sha(?:256|512):|(?:[a-z0-9]+(?:[.+_-][a-z0-9]+)*:)?[a-f0-9]{32,}$|$)/i;

/** Splits the optional `USER@` and `REGISTRY#` off a reference (scheme already removed). */
export function splitEnrootPrefix(text: string): EnrootPrefix {
  const hash = text.indexOf("#");
  if (hash >= 0) {
    const head = text.slice(0, hash);
    const at = head.lastIndexOf("@");
    const image = text.slice(hash + 1);
    if (at < 0) return { registry: head, image };
    return { ...userPart(head.slice(0, at)), registry: head.slice(at + 1), image };
  }
  const at = text.indexOf("@");
  if (at < 0 || text.slice(0, at).includes("/")) return { image: text };
  const after = text.slice(at + 1);
  if (DIGEST_LIKE.test(after)) return { image: text };
  const user = text.slice(0, at);
  // `name:tag@sha256:…` has its tag before the `@`; only a clean user name is taken as one.
  return USER.test(user) && !user.includes(":") ? { user, image: after } : { image: text };
}

function userPart(user: string): { user?: string } {
  return user === "" ? {} : { user };
}

/** True when `user` is a login enroot would accept in `USER@`. */
export function isEnrootUser(user: string): boolean {
  return USER.test(user);
}
