/**
 * The catalog's image uri, `collection/name:tag[@version]`, as the original stored it in the
 * `uri` column and as users type it for `get`, `inspect`, `rm`, `mv`, `rename`.
 *
 * - A `scheme://` prefix is removed; a leading registry host (a first segment with `.`, `:` or
 *   `localhost`, followed by more segments) is dropped, so the full reference of a pulled image
 *   finds its row: for `127.0.0.1:5000/foo/bar` the catalog collection is just `foo`, whatever the
 *   backend's default registry is.
 * - The collection is everything before the last segment (`nvidia/clara` for nested NGC names),
 *   the default collection for a single segment. Tag default `latest`. Everything is lower-cased.
 * - The version is a sha256 hex (64), an md5 hex (32, catalogs from before 2019), a digest
 *   (`sha256:<hex>`, from pulls by digest), or absent; anything else is refused because versions
 *   end up in SQL keys and file names.
 *
 * @example
 * ```ts
 * parseCatalogUri("docker://Library/Ubuntu:Bionic"); // { collection: "library", name: "ubuntu", tag: "bionic" }
 * formatCatalogUri({ collection: "nvidia", name: "caffe2", tag: "17.10", version: "" }); // "nvidia/caffe2:17.10"
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { isDigest } from "../oci/digest.js";
import type { ImageReference } from "./image-reference.js";
import {
  isTag,
  looksLikeRegistry,
  shown,
  splitAt,
  splitTag,
  stripImageExtension,
  stripScheme,
} from "./grammar.js";

export interface CatalogUri {
  collection: string;
  name: string;
  tag: string;
  /** sha256 hex, md5 hex, or `sha256:<hex>`; absent when the query had none. */
  version?: string;
}

/** Catalog names allow what the original stored: lower-case letters, digits, `.`, `_`, `-`. */
const CATALOG_COMPONENT = /^[a-z0-9_][a-z0-9._-]*$/;
const HEX_VERSION = /^(?:[a-f0-9]{64}|[a-f0-9]{32})$/;

/** Parses a catalog query; a bad one is a SregistryError naming it. */
export function parseCatalogUri(query: string, defaultCollection = "library"): CatalogUri {
  const text = query.trim();
  const fail = (reason: string): never => {
    throw new SregistryError(`invalid image uri "${shown(text)}": ${reason}`, { code: "BAD_REFERENCE" });
  };
  if (text === "") fail("empty");
  const { rest, suffix } = splitAt(stripScheme(text).toLowerCase());
  const version = suffix === undefined ? undefined : checkedVersion(stripImageExtension(suffix), fail);
  const { path, tag } = splitTag(suffix === undefined ? stripImageExtension(rest) : rest);
  if (tag !== undefined && !isTag(tag)) fail(`bad tag "${shown(tag)}"`);
  const segments = stripImageExtension(path).replace(/\/+$/, "").split("/");
  if (segments.length > 1 && looksLikeRegistry(segments[0]!)) segments.shift();
  for (const segment of segments) {
    if (!CATALOG_COMPONENT.test(segment))
      fail(segment === "" ? "empty name" : `bad name component "${segment}"`);
  }
  const name = segments.pop()!;
  const collection = segments.length > 0 ? segments.join("/") : defaultCollection.toLowerCase();
  const uri: CatalogUri = { collection, name, tag: tag ?? "latest" };
  return version ? { ...uri, version } : uri;
}

/** An empty version means none; otherwise hex sha256/md5 or a digest. */
function checkedVersion(value: string, fail: (reason: string) => never): string | undefined {
  if (value === "") return undefined;
  if (HEX_VERSION.test(value) || isDigest(value)) return value;
  return fail(`bad version "${shown(value)}": expected a sha256 or md5 hex, or sha256:<hex>`);
}

/** `collection/name:tag`, plus `@version` only when the version is not empty. */
export function formatCatalogUri(uri: CatalogUri): string {
  return `${uri.collection}/${uri.name}:${uri.tag}${uri.version ? `@${uri.version}` : ""}`;
}

/**
 * The catalog names of a pulled reference: its collection (registry left out), name and tag,
 * lower-case; the version is `version` when given, else the reference's digest, else none.
 */
export function catalogUriFromReference(ref: ImageReference, version?: string): CatalogUri {
  const uri: CatalogUri = {
    collection: ref.collection.toLowerCase(),
    name: ref.name.toLowerCase(),
    tag: ref.tag.toLowerCase(),
  };
  const chosen = version ?? ref.digest;
  return chosen ? { ...uri, version: chosen.toLowerCase() } : uri;
}
