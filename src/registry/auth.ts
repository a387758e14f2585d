/**
 * The auth wrapper: Basic or Bearer, learned from the registry's 401 challenge.
 *
 * - Requests to any host other than the registry's own `host:port` pass through with no
 *   `Authorization` at all (CDN redirects, foreign URLs): credentials never leave the registry.
 * - Bearer: the token comes from the challenge's realm (token.ts), cached per (registry, scope) and
 *   shared by concurrent requests; once the registry is known to use Bearer, later requests fetch
 *   their token up front instead of taking a 401 first. On a 401 the token is dropped and fetched
 *   again, and the request retried once; a second 401 is returned to the caller (→ code AUTH).
 *   The Basic credentials (e.g. `$oauthtoken` + NGC API key) go only to the token realm, never to
 *   the registry itself.
 * - Basic: the credentials are sent to the registry host directly.
 * The scope of a request is derived from its path, `/v2/<repo>/(manifests|blobs|tags)/...`.
 *
 * @example
 * ```ts
 * const authed = withAuth(http, { registry: "nvcr.io", keychain, tokenTransport: withRetry(http) });
 * ```
 */
import { discardBody } from "./body.js";
import { findChallenge, parseChallenges } from "./challenge.js";
import { anonymousKeychain, type Credentials, type Keychain } from "./credentials.js";
import type { HttpRequest, HttpResponse, Transport } from "./http.js";
import { basicAuthorization, fetchToken, TokenCache } from "./token.js";

export interface AuthOptions {
  /** The registry's `host[:port]` as contacted; only this host ever receives `Authorization`. */
  registry: string;
  /** Name used to look credentials up (e.g. `docker.io` while contacting registry-1.docker.io). */
  credentialsName?: string;
  keychain?: Keychain;
  /** Transport for token requests (typically retry + redirects over the base transport). */
  tokenTransport?: Transport;
  /** Share a cache between clients of the same registry; default a private one. */
  cache?: TokenCache;
  now?: () => number;
  /** The registry is configured insecure (http): allows credentials to an http token realm. */
  insecure?: boolean;
}

type Scheme = { kind: "bearer"; realm: string; service?: string } | { kind: "basic" };

interface Attached {
  authorization?: string;
  token?: string;
}

/**
 * `repository:<repo>:pull` for registry API paths that name a repository, else undefined; a
 * request that writes (POST/PATCH/PUT/DELETE: the distribution spec's push flow) needs
 * `pull,push`, as the token spec's examples ask for it (DELETE: `delete`, as distribution wants).
 */
export function scopeForPath(pathname: string, method = "GET"): string | undefined {
  const m = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(pathname);
  if (!m) return undefined;
  const actions =
    method === "GET" || method === "HEAD" ? "pull" : method === "DELETE" ? "delete" : "pull,push";
  return `repository:${m[1]}:${actions}`;
}

export function withAuth(inner: Transport, options: AuthOptions): Transport {
  const session = new AuthSession(inner, options);
  return (req) => session.send(req);
}

class AuthSession {
  private scheme: Scheme | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;
  private readonly cache: TokenCache;
  private readonly host: string;

  constructor(
    private readonly inner: Transport,
    private readonly options: AuthOptions,
  ) {
    this.cache = options.cache ?? new TokenCache({ now: options.now });
    this.host = options.registry.toLowerCase();
  }

  async send(original: HttpRequest): Promise<HttpResponse> {
    const url = new URL(original.url);
    const req = { ...original, headers: withoutAuthorization(original.headers) };
    if (url.host.toLowerCase() !== this.host) return this.inner(req);
    const scope = scopeForPath(url.pathname, req.method);
    const attached = await this.preemptive(scope);
    const res = await this.inner(withAuthorization(req, attached.authorization));
    if (res.status !== 401) return res;

    const challenges = parseChallenges(res.headers["www-authenticate"]);
    const bearer = findChallenge(challenges, "bearer");
    if (bearer?.params.realm) {
      discardBody(res.body);
      this.scheme = { kind: "bearer", realm: bearer.params.realm, service: bearer.params.service };
      const tokenScope = scope ?? bearer.params.scope;
      this.cache.invalidate(this.cacheKey(tokenScope), attached.token);
      const token = await this.token(tokenScope);
      return this.inner(withAuthorization(req, `Bearer ${token}`));
    }
    if (findChallenge(challenges, "basic") && !attached.authorization) {
      const creds = await this.resolveCredentials();
      if (!creds || creds.password === "") return res;
      discardBody(res.body);
      this.scheme = { kind: "basic" };
      return this.inner(withAuthorization(req, basicAuthorization(creds)));
    }
    return res;
  }

  /** Authorization for a request, when the registry's scheme is already known. */
  private async preemptive(scope: string | undefined): Promise<Attached> {
    if (this.scheme?.kind === "bearer") {
      const token = await this.token(scope);
      return { authorization: `Bearer ${token}`, token };
    }
    if (this.scheme?.kind === "basic") {
      const creds = await this.resolveCredentials();
      if (creds && creds.password !== "") return { authorization: basicAuthorization(creds) };
    }
    return {};
  }

  private async token(scope: string | undefined): Promise<string> {
    const scheme = this.scheme;
    if (scheme?.kind !== "bearer") throw new Error("bearer scheme expected");
    const credentials = await this.resolveCredentials();
    const token = await this.cache.get(this.cacheKey(scope), () =>
      fetchToken(this.options.tokenTransport ?? this.inner, {
        registry: this.options.credentialsName ?? this.options.registry,
        realm: scheme.realm,
        service: scheme.service,
        scope,
        credentials,
        allowHttpRealm: this.options.insecure,
        now: this.options.now,
      }),
    );
    return token.value;
  }

  private cacheKey(scope: string | undefined): string {
    return `${this.host} ${scope ?? ""}`;
  }

  private resolveCredentials(): Promise<Credentials | undefined> {
    const keychain = this.options.keychain ?? anonymousKeychain;
    this.credentials ??= keychain.resolve(this.options.credentialsName ?? this.options.registry);
    return this.credentials;
  }
}

function withoutAuthorization(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (name.toLowerCase() !== "authorization") out[name] = value;
  return out;
}

function withAuthorization(req: HttpRequest, authorization: string | undefined): HttpRequest {
  if (!authorization) return req;
  return { ...req, headers: { ...req.headers, authorization } };
}
