/**
 * `oras://registry/repository[:tag][@digest]`: a SIF stored as an OCI artifact (Apptainer's
 * `push`/`pull oras://`). The part after the scheme is an ordinary image reference; as in
 * Apptainer (go-containerregistry's `name.ParseReference`), a name without a registry is on Docker
 * Hub and a missing tag is `latest`.
 *
 * @example
 * ```ts
 * isOrasUri("oras://ghcr.io/me/tools:1.0");            // true
 * parseOrasUri("oras://127.0.0.1:5000/site/pytorch:24.01").repository; // "site/pytorch"
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { parseImageReference, type ImageReference } from "./image-reference.js";

const ORAS = /^oras:\/\//i;

export function isOrasUri(text: string | undefined): boolean {
  return text !== undefined && ORAS.test(text.trim());
}

/** Parses an `oras://` uri; anything else is a BAD_REFERENCE error. */
export function parseOrasUri(text: string): ImageReference {
  const trimmed = text.trim();
  if (!ORAS.test(trimmed)) {
    throw new SregistryError(`expected an oras:// uri, e.g. oras://registry.example.org/site/image:tag`, {
      code: "BAD_REFERENCE",
    });
  }
  return parseImageReference(trimmed.replace(ORAS, ""), {
    registry: "index.docker.io",
    defaultCollection: "library",
  });
}
