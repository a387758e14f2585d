/**
 * Listing tags with `/v2/<repo>/tags/list?n=<pageSize>`, following `Link: <...>; rel="next"`
 * pagination. Relative and absolute links are resolved against the page's URL; a link to another
 * origin, a link seen before (a loop) or more than 10 000 pages stop with an error.
 *
 * @example
 * ```ts
 * const tags = await listTags({ transport, baseUrl, registry, repo: "nvidia/cuda", pageSize: 100 });
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { readBody } from "./body.js";
import { responseError } from "./errors.js";
import { headerValues, type Transport } from "./http.js";
import { tagsUrl } from "./urls.js";

const MAX_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_PAGES = 10_000;

export interface TagsRequest {
  transport: Transport;
  baseUrl: string;
  registry: string;
  repo: string;
  pageSize?: number;
  signal?: AbortSignal;
}

export async function listTags(request: TagsRequest): Promise<string[]> {
  const { registry, repo } = request;
  const origin = new URL(request.baseUrl).origin;
  const seen = new Set<string>();
  const tags: string[] = [];
  let url: string | undefined = tagsUrl(request.baseUrl, repo, request.pageSize);
  while (url !== undefined) {
    if (seen.has(url) || seen.size >= MAX_PAGES) {
      throw new SregistryError(`tag list pagination for ${registry}/${repo} does not end`, { code: "HTTP" });
    }
    seen.add(url);
    const res = await request.transport({
      method: "GET",
      url,
      headers: { accept: "application/json" },
      signal: request.signal,
    });
    if (res.status !== 200) throw await responseError(res, { registry, repo, what: "tags" });
    const next = nextLink(headerValues(res, "link"), res.url);
    tags.push(
      ...parsePage(await readBody(res.body, MAX_PAGE_BYTES, () => invalid(registry, repo)), registry, repo),
    );
    if (next !== undefined && new URL(next).origin !== origin) {
      throw new SregistryError(`tag list of ${registry}/${repo} links to another host`, { code: "HTTP" });
    }
    url = next;
  }
  return tags;
}

function parsePage(bytes: Buffer, registry: string, repo: string): string[] {
  let json: { tags?: unknown };
  try {
    json = JSON.parse(bytes.toString("utf8")) as typeof json;
  } catch {
    throw invalid(registry, repo);
  }
  if (json.tags === null || json.tags === undefined) return [];
  if (!Array.isArray(json.tags)) throw invalid(registry, repo);
  return json.tags.filter((t): t is string => typeof t === "string");
}

function invalid(registry: string, repo: string): SregistryError {
  return new SregistryError(`invalid tag list from ${registry}/${repo}`, { code: "MANIFEST_INVALID" });
}

/** The `rel="next"` target among Link header values (Node joins repeated headers with ", "). */
export function nextLink(values: string[], base: string): string | undefined {
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  for (const value of values) {
    for (const match of value.matchAll(pattern)) {
      const params = match[2] ?? "";
      if (/;\s*rel\s*=\s*"?(?:[^";,]*\s)?next(?:\s[^";,]*)?"?/i.test(params)) {
        return new URL(match[1]!, base).toString();
      }
    }
  }
  return undefined;
}
