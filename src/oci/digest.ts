/**
 * Content digests (`algorithm:hex`), validated before they touch a URL, a path or a SQL key.
 *
 * Only sha256 and sha512 are accepted, in lower-case hex of the exact length; anything else is a
 * `SregistryError` (CVE-2024-3727 was an unvalidated digest turned into a path and a request).
 *
 * @example
 * ```ts
 * const d = parseDigest("sha256:" + "ab".repeat(32));
 * d.algorithm; // "sha256"
 * digestOf(Buffer.from("hello")); // "sha256:2cf24d..."
 * ```
 */
import { createHash } from "node:crypto";
import { SregistryError } from "../util/errors.js";

export type DigestAlgorithm = "sha256" | "sha512";

/** A validated digest string, e.g. `sha256:<64 hex>`. */
export type Digest = `${DigestAlgorithm}:${string}`;

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: Digest;
}

/** True when `value` is a well-formed digest we support. */
export function isDigest(value: unknown): value is Digest {
  if (typeof value !== "string") return false;
  const match = /^(sha256|sha512):([a-f0-9]+)$/.exec(value);
  if (!match) return false;
  return match[2]!.length === HEX_LENGTH[match[1] as DigestAlgorithm];
}

/** Validates and splits a digest; throws a one-line `SregistryError` naming the bad value. */
export function parseDigest(value: string): ParsedDigest {
  if (!isDigest(value)) {
    const shown = value.length > 80 ? value.slice(0, 80) + "..." : value;
    throw new SregistryError(`invalid digest "${shown}": expected sha256:<64 hex> or sha512:<128 hex>`, {
      code: "BAD_DIGEST",
    });
  }
  const [algorithm, hex] = value.split(":") as [DigestAlgorithm, string];
  return { algorithm, hex, digest: value };
}

/** Computes the sha256 digest of a buffer. */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}
