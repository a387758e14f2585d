/**
 * `search`: finds images in the local catalog and, for the docker and nvidia backends, lists a
 * repository's tags on its registry.
 *
 * Local: a row matches when every query word appears (case-insensitively) in its uri, collection,
 * name or tag, or in one of its labels' keys or values. No words → every row.
 *
 * Registry — the rule: a word is also looked up on the registry that `pull <word>` would use. Its
 * backend is the word's `docker://` / `nvidia://` prefix, else the default client (SREGISTRY_CLIENT,
 * else the secrets file, else `hub`). When that backend is docker or nvidia, the word names a
 * repository (`nvidia/tensorflow`, `tensorflow` on nvidia, `busybox` on docker → `library/busybox`;
 * a tag or digest in it is ignored) and all its tags are listed (following pagination), sorted
 * numeric-aware (`1.9` before `1.10`). For any
 * other backend (the default `hub` included) only the catalog is searched. `local: true` never asks
 * a registry; `remote: true` demands it (an error when the backend has no registry here).
 * A registry failure does not hide the other results: it is reported in that entry's `error`.
 *
 * The original had no search for docker/nvidia (it failed with a Python traceback).
 *
 * @example
 * ```ts
 * const found = await search(ctx, ["nvidia://tensorflow"]);
 * found.local;            // catalog rows mentioning "tensorflow"
 * found.remote[0]?.tags;  // ["17.11", "18.01-py3", ...]
 * found.remote[0]?.uris;  // ["nvidia://nvidia/tensorflow:17.11", ...] — what to pull
 * ```
 */
import { containerUri, parseMetrics, type ContainerRow } from "../catalog/catalog.js";
import { labelsFromMetrics } from "../catalog/labels.js";
import { resolveClientName } from "../config/backend.js";
import { isRegistryClient } from "../config/clients.js";
import { stripScheme } from "../reference/grammar.js";
import { SregistryError } from "../util/errors.js";
import type { Platform } from "../oci/types.js";
import { mapLimit } from "../util/pool.js";
import { connectRemote, type Remote } from "../pull/remote.js";
import type { Context } from "./context.js";

export interface SearchOptions {
  /** Only the local catalog. */
  local?: boolean;
  /** Every word must be looked up on a registry (an error for backends without one). */
  remote?: boolean;
  /** Page size asked of the registry's tag list. */
  pageSize?: number;
  /** Plain http to the registry (`--insecure`), as if SREGISTRY_<CLIENT>_NOHTTPS were set. */
  insecure?: boolean;
  /**
   * Keep only the tags that have an image for this platform (`--platform`/`--arch`): one manifest
   * (and, for a single-image tag, config) request per tag, four at a time.
   */
  platform?: Platform;
}

export interface RemoteTags {
  /** The query word. */
  query: string;
  /** `docker` or `nvidia`. */
  client: string;
  /** Registry host[:port]. */
  registry: string;
  /** Repository path on the registry, e.g. `nvidia/tensorflow`. */
  repository: string;
  tags: string[];
  /** One pullable uri per tag, e.g. `nvidia://nvidia/tensorflow:17.11`. */
  uris: string[];
  /** Why the registry could not be asked (then `tags` is empty). */
  error?: string;
}

export interface SearchResult {
  local: ContainerRow[];
  remote: RemoteTags[];
}

export async function search(
  ctx: Context,
  query: string[],
  options: SearchOptions = {},
): Promise<SearchResult> {
  const words = query.map((word) => word.trim()).filter((word) => word !== "" && word !== "*");
  const remoteWords = options.local ? [] : words.filter((word) => wantsRegistry(ctx, word, options.remote));
  const local = await searchCatalog(ctx, words);
  const remote: RemoteTags[] = [];
  for (const word of remoteWords) remote.push(await listRemoteTags(ctx, word, options));
  return { local, remote };
}

/** The backend `pull <word>` would use; true when it is docker or nvidia. */
function wantsRegistry(ctx: Context, word: string, required: boolean | undefined): boolean {
  const { client } = resolveClientName(word, ctx.settings);
  if (isRegistryClient(client)) return true;
  if (required) {
    throw new SregistryError(
      `search --remote needs the docker or nvidia backend, not ${client}; write docker://${word} or nvidia://${word}`,
      { code: "BAD_CLIENT" },
    );
  }
  return false;
}

/** Rows matching every word (see the module doc); all rows without words. */
export async function searchCatalog(ctx: Context, words: string[]): Promise<ContainerRow[]> {
  const needles = words.map((word) => stripScheme(word).toLowerCase());
  return (await ctx.catalog().listContainers()).filter((row) => {
    const haystack = searchableText(row);
    return needles.every((needle) => haystack.some((text) => text.includes(needle)));
  });
}

function searchableText(row: ContainerRow): string[] {
  const texts = [row.uri ?? containerUri(row), row.collection, row.name, row.tag];
  for (const label of labelsFromMetrics(parseMetrics(row.metrics))) texts.push(label.key, label.value);
  return texts.map((text) => text.toLowerCase());
}

async function listRemoteTags(ctx: Context, word: string, options: SearchOptions): Promise<RemoteTags> {
  const { pageSize, platform } = options;
  const remote = connectRemote(ctx, word, { insecure: options.insecure ?? false });
  const { reference, backend } = remote;
  const entry = {
    query: word,
    client: remote.clientName,
    registry: reference.registry,
    repository: reference.repository,
  };
  // A registry other than the backend's own must stay in the uri for pull to find it again.
  const prefix = `${remote.clientName}://${reference.registry === backend.registry ? "" : `${reference.registry}/`}`;
  try {
    const listed = await remote.registry.listTags(
      reference.repository,
      pageSize === undefined ? {} : { pageSize },
    );
    // Registries list in storage order; numeric-aware sorting puts 1.9 before 1.10.
    const sorted = [...listed].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const tags = platform ? await tagsForPlatform(remote, sorted, platform) : sorted;
    return { ...entry, tags, uris: tags.map((tag) => `${prefix}${reference.repository}:${tag}`) };
  } catch (err) {
    if (!(err instanceof SregistryError)) throw err;
    return { ...entry, tags: [], uris: [], error: err.message };
  } finally {
    remote.registry.close();
  }
}

/** The tags whose image (or index) has an image for `platform`; a tag without one is left out. */
async function tagsForPlatform(remote: Remote, tags: string[], platform: Platform): Promise<string[]> {
  const repository = remote.reference.repository;
  const matches = await mapLimit(tags, 4, (tag) => remote.registry.hasPlatform(repository, tag, platform));
  return tags.filter((_, index) => matches[index]);
}
