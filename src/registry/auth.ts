/**
 * The auth wrapper: Basic or Bearer, learned from the registry's 401 challenge.
 *
 * Where the credentials (e.g. `$oauthtoken` + NGC API key, Docker config.json entries) may go:
 * - Requests to any host other than the registry's own `host:port` pass through with no
 *   `Authorization` at all (CDN redirects, foreign URLs).
 * - Bearer: the credentials go only to the challenge's token realm, and only when realm-policy.ts
 *   allows that realm (https, on the registry's registrable domain, a known pair such as
 *   nvcr.io → authn.nvidia.com, or SREGISTRY_TRUSTED_REALMS); the registry itself gets only the
 *   token. The token is cached per (registry, scope) and shared by concurrent requests; once the
 *   registry is known to use Bearer, later requests fetch their token up front instead of taking a
 *   401 first. On a 401 the token is dropped and fetched again, and the request retried once; a
 *   second 401 is returned to the caller (→ code AUTH).
 * - Basic: only when the registry itself answers `WWW-Authenticate: Basic` (and no Bearer), the
 *   credentials are sent as Basic to the registry's own `host:port`, over https — or plain http
 *   when the registry is configured insecure — and from then on with each request to that host
 *   (as the Docker CLI does). Never to another host, never to a realm named in a Basic challenge.
 *
 * The scope of a request is derived from its path, `/v2/<repo>/(manifests|blobs|tags)/...`.
 *
 * @example
 * ```ts
 * const authed = withAuth(http, { registry: "nvcr.io", keychain, tokenTransport: withRetry(http) });
 * // a 401 with `Bearer realm="https://nvcr.io/proxy_auth"` → key to the realm, token to nvcr.io
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { discardBody } from "./body.js";
import { findChallenge, parseChallenges } from "./challenge.js";
import { anonymousKeychain, type Credentials, type Keychain } from "./credentials.js";
import type { HttpRequest, HttpResponse, Transport } from "./http.js";
import { basicAuthorization, describeSource, fetchToken, TokenCache } from "./token.js";

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
  /** The registry is configured insecure (http): allows credentials to an http realm on its own host. */
  insecure?: boolean;
  /** SREGISTRY_TRUSTED_REALMS: realm hosts outside the registry's domain that may get credentials. */
  trustedRealms?: readonly string[];
  /**
   * Called once, the first time the credentials were accepted: a token realm issued a token for
   * them, or the registry answered a Basic-authorised request with something other than 401.
   * The command layer saves an API key given in the environment only then.
   */
  onCredentialsAccepted?: (credentials: Credentials) => void;
}

type Scheme = { kind: "bearer"; realm: string; service?: string } | { kind: "basic" };

interface Attached {
  authorization?: string;
  token?: string;
  /** The credentials behind `authorization` (undefined: anonymous). */
  credentials?: Credentials;
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
  private reportedAcceptance = false;

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
    const attached = await this.preemptive(scope, url);
    const res = await this.exchange(req, attached);
    if (res.status !== 401) return res;

    const challenges = parseChallenges(res.headers["www-authenticate"]);
    const bearer = findChallenge(challenges, "bearer");
    if (bearer?.params.realm) {
      discardBody(res.body);
      this.scheme = { kind: "bearer", realm: bearer.params.realm, service: bearer.params.service };
      const tokenScope = scope ?? bearer.params.scope;
      // Only a token that was sent and refused is dropped: a 401 to a request sent without one
      // must not discard the token a concurrent request has just obtained.
      if (attached.token !== undefined) this.cache.invalidate(this.cacheKey(tokenScope), attached.token);
      const token = await this.token(tokenScope);
      return this.exchange(req, {
        authorization: `Bearer ${token}`,
        credentials: await this.resolveCredentials(),
      });
    }
    if (findChallenge(challenges, "basic") && !attached.authorization) {
      const creds = await this.resolveCredentials();
      if (!creds || creds.password === "") return res;
      this.checkBasicTarget(url);
      discardBody(res.body);
      this.scheme = { kind: "basic" };
      return this.exchange(req, { authorization: basicAuthorization(creds), credentials: creds });
    }
    return res;
  }

  /** Sends with `attached`; tags the response with the credentials' source, and reports acceptance. */
  private async exchange(req: HttpRequest, attached: Attached): Promise<HttpResponse> {
    const res = await this.inner(withAuthorization(req, attached.authorization));
    const creds = attached.authorization ? attached.credentials : undefined;
    if (!creds) return res;
    res.credentialsSource = describeSource(creds);
    if (res.status !== 401 && attached.token === undefined) this.accepted(creds);
    return res;
  }

  private accepted(creds: Credentials): void {
    if (this.reportedAcceptance) return;
    this.reportedAcceptance = true;
    this.options.onCredentialsAccepted?.(creds);
  }

  /** Authorization for a request, when the registry's scheme is already known. */
  private async preemptive(scope: string | undefined, url: URL): Promise<Attached> {
    if (this.scheme?.kind === "bearer") {
      const token = await this.token(scope);
      return { authorization: `Bearer ${token}`, token, credentials: await this.resolveCredentials() };
    }
    if (this.scheme?.kind === "basic") {
      const creds = await this.resolveCredentials();
      this.checkBasicTarget(url);
      if (creds && creds.password !== "")
        return { authorization: basicAuthorization(creds), credentials: creds };
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
        realmPolicy: {
          registry: this.options.registry,
          insecure: this.options.insecure,
          trustedRealms: this.options.trustedRealms,
        },
        now: this.options.now,
      }).then((issued) => {
        if (credentials) this.accepted(credentials);
        return issued;
      }),
    );
    return token.value;
  }

  /** Basic credentials travel in every request: only over https, or http when configured insecure. */
  private checkBasicTarget(url: URL): void {
    if (url.protocol === "https:" || this.options.insecure) return;
    throw new SregistryError(
      `refusing to send credentials to ${url.host} over plain http: the registry is not configured insecure`,
      { code: "UNTRUSTED_REALM" },
    );
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
