/**
 * Redirects followed by hand (301/302/303/307/308, at most 5 hops).
 *
 * Registries send blob GETs to CDNs and object stores (Docker Hub → CloudFront/Cloudflare, S3,
 * Azure). Credentials must not follow: when the origin (scheme, host, port) changes, the
 * `Authorization` header is dropped, and the auth wrapper below this one only ever attaches
 * credentials for the registry's own host anyway. https→http downgrades are refused. Relative
 * `Location`s are resolved against the URL that answered. 303 (and 301/302 after a non-GET) turn
 * the request into a body-less GET, as browsers do.
 *
 * @example
 * ```ts
 * const transport = withRedirects(withAuth(createHttpTransport(), authOptions));
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { discardBody } from "./body.js";
import { header, type HttpRequest, type Transport } from "./http.js";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function withRedirects(inner: Transport, maxRedirects = 5): Transport {
  return async (original) => {
    let req: HttpRequest = { ...original, url: new URL(original.url) };
    for (let hop = 0; ; hop++) {
      const res = await inner(req);
      const location = header(res, "location");
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined) return res;
      discardBody(res.body);
      const from = new URL(req.url);
      if (hop >= maxRedirects) {
        throw new SregistryError(`too many redirects (more than ${maxRedirects}) from ${from.origin}`, {
          code: "HTTP",
        });
      }
      req = nextRequest(req, res.status, resolveLocation(location, from));
    }
  };
}

function resolveLocation(location: string, from: URL): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new SregistryError(`invalid redirect location from ${from.origin}`, { code: "HTTP" });
  }
  if (to.protocol !== "http:" && to.protocol !== "https:") {
    throw new SregistryError(`refusing redirect from ${from.origin} to a ${to.protocol} URL`, {
      code: "HTTP",
    });
  }
  if (from.protocol === "https:" && to.protocol === "http:") {
    throw new SregistryError(
      `refusing redirect from ${from.origin} to insecure ${to.origin} (https to http)`,
      {
        code: "HTTP",
      },
    );
  }
  return to;
}

function nextRequest(req: HttpRequest, status: number, to: URL): HttpRequest {
  const from = new URL(req.url);
  let headers = { ...(req.headers ?? {}) };
  if (to.origin !== from.origin)
    headers = withoutHeaders(headers, ["authorization", "cookie", "proxy-authorization"]);
  const becomesGet = status === 303 || ((status === 301 || status === 302) && req.method !== "GET");
  if (becomesGet && req.method !== "HEAD") {
    headers = withoutHeaders(headers, ["content-type", "content-length"]);
    return { ...req, method: "GET", url: to, headers, body: undefined };
  }
  return { ...req, url: to, headers };
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (!names.includes(name.toLowerCase())) out[name] = value;
  return out;
}
