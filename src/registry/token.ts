/**
 * Bearer tokens (the Docker token spec, as nvcr.io and Docker Hub implement it): fetching one from
 * the realm, and a cache per (registry, scope) shared by concurrent requests.
 *
 * The token request is `GET <realm>?scope=<scope>[&service=<service>]` (no `service` when the
 * challenge had none, as nvcr.io) with Basic credentials when we have some, else anonymous. With an
 * identity token (Docker `identitytoken`), it is an OAuth2 `POST` with `grant_type=refresh_token`.
 * The answer's `token` or `access_token` is used; `expires_in` defaults to 60 s per the spec. Expiry
 * is measured on our clock from the moment we asked (`issued_at` is parsed but not trusted: clock
 * skew). Realm errors become one-line errors: 401 → AUTH, 403 → FORBIDDEN. Credentials go to a
 * realm only when realm-policy.ts allows it; anonymous requests go wherever the challenge says.
 *
 * @example
 * ```ts
 * const cache = new TokenCache();
 * const token = await cache.get("nvcr.io repository:nvidia/cuda:pull", () =>
 *   fetchToken(transport, { registry: "nvcr.io", realm, scope: "repository:nvidia/cuda:pull", credentials }),
 * );
 * ```
 */
import { SregistryError } from "../util/errors.js";
import { registerSecret } from "../util/redact.js";
import { readBody, readErrorText } from "./body.js";
import type { Credentials } from "./credentials.js";
import type { Transport } from "./http.js";
import { checkRealmForCredentials, type RealmPolicy } from "./realm-policy.js";

export interface Token {
  value: string;
  /** Epoch milliseconds after which the token must not be used. */
  expiresAt: number;
}

export interface TokenRequest {
  /** The registry the token is for (`host[:port]`), for messages. */
  registry: string;
  realm: string;
  service?: string;
  scope?: string;
  credentials?: Credentials;
  /**
   * Where credentials may go (realm-policy.ts); default: the registry named in `registry`, not
   * insecure, nothing trusted. Not consulted for anonymous requests.
   */
  realmPolicy?: RealmPolicy;
  now?: () => number;
}

const MAX_TOKEN_RESPONSE = 1024 * 1024;
const DEFAULT_EXPIRES_IN = 60;

export async function fetchToken(transport: Transport, request: TokenRequest): Promise<Token> {
  const now = request.now ?? Date.now;
  const asked = now();
  const realm = parseRealm(request);
  const creds = request.credentials;
  const useRefreshToken = creds?.identityToken !== undefined;
  const res = useRefreshToken
    ? await postRefresh(transport, realm, request)
    : await getToken(transport, realm, request);
  if (res.status < 200 || res.status > 299) {
    const detail = (await readErrorText(res.body)).slice(0, 200);
    throw tokenError(res.status, request, detail);
  }
  const body = await readBody(res.body, MAX_TOKEN_RESPONSE, () => invalid(request, "response too large"));
  return parseTokenResponse(body, request, asked);
}

function parseRealm(request: TokenRequest): URL {
  let realm: URL;
  try {
    realm = new URL(request.realm);
  } catch {
    throw new SregistryError(`registry ${request.registry} sent an invalid token realm`, { code: "AUTH" });
  }
  if (realm.protocol !== "https:" && realm.protocol !== "http:") {
    throw new SregistryError(`registry ${request.registry} sent a non-HTTP token realm`, { code: "AUTH" });
  }
  if (request.credentials)
    checkRealmForCredentials(realm, request.realmPolicy ?? { registry: request.registry });
  return realm;
}

function getToken(transport: Transport, realm: URL, request: TokenRequest) {
  const url = new URL(realm);
  if (request.scope) url.searchParams.append("scope", request.scope);
  if (request.service) url.searchParams.append("service", request.service);
  const headers: Record<string, string> = { accept: "application/json" };
  const creds = request.credentials;
  if (creds) headers.authorization = basicAuthorization(creds);
  return transport({ method: "GET", url, headers });
}

function postRefresh(transport: Transport, realm: URL, request: TokenRequest) {
  const form = new URLSearchParams({ grant_type: "refresh_token", client_id: "sregistry" });
  form.set("refresh_token", request.credentials?.identityToken ?? "");
  if (request.service) form.set("service", request.service);
  if (request.scope) form.set("scope", request.scope);
  return transport({
    method: "POST",
    url: realm,
    headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
    body: Buffer.from(form.toString()),
  });
}

/** `Basic base64(user:pass)` */
export function basicAuthorization(creds: Credentials): string {
  return "Basic " + Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
}

function parseTokenResponse(body: Buffer, request: TokenRequest, asked: number): Token {
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    json = JSON.parse(body.toString("utf8")) as typeof json;
  } catch {
    throw invalid(request, "response is not JSON");
  }
  const value = typeof json.token === "string" && json.token ? json.token : json.access_token;
  if (typeof value !== "string" || value === "") throw invalid(request, "response has no token");
  registerSecret(value);
  const expiresIn =
    typeof json.expires_in === "number" && json.expires_in > 0 ? json.expires_in : DEFAULT_EXPIRES_IN;
  return { value, expiresAt: asked + expiresIn * 1000 };
}

function invalid(request: TokenRequest, why: string): SregistryError {
  return new SregistryError(`token endpoint for ${request.registry} failed: ${why}`, { code: "AUTH" });
}

/** The repository named in a `repository:<name>:<actions>` scope. */
export function scopeRepository(scope: string | undefined): string | undefined {
  const m = /^repository(?:\([^)]*\))?:(.+):[^:]*$/.exec(scope ?? "");
  return m?.[1];
}

/** What to do when a registry wants credentials and none were given. */
export const LOG_IN_HINT =
  "give credentials (SREGISTRY_NVIDIA_TOKEN for nvidia; SREGISTRY_DOCKERHUB_USERNAME/_PASSWORD or docker login for docker)";

/** Where credentials came from, for a message (never the secret itself). */
export function describeSource(creds: Credentials): string {
  return creds.source ?? "your configuration";
}

function tokenError(status: number, request: TokenRequest, detail: string): SregistryError {
  const repo = scopeRepository(request.scope) ?? "the registry";
  if (status === 401) {
    const message = request.credentials
      ? `authentication failed for ${request.registry} with the credentials from ${describeSource(request.credentials)}: check them`
      : `anonymous access to ${repo} on ${request.registry} was refused: ${LOG_IN_HINT}`;
    return new SregistryError(message, { code: "AUTH" });
  }
  if (status === 403) {
    return new SregistryError(`access denied to ${repo} on ${request.registry} (not entitled?)`, {
      code: "FORBIDDEN",
    });
  }
  const hint = detail.replace(/\s+/g, " ").trim();
  return new SregistryError(
    `token endpoint for ${request.registry} answered HTTP ${status}${hint ? `: ${hint}` : ""}`,
    { code: "AUTH" },
  );
}

export interface TokenCacheOptions {
  now?: () => number;
  /**
   * Refresh this long before expiry; default min(30 s, 10% of the lifetime), so a 600 s nvcr.io
   * token is renewed 30 s early and a 2 s test token 0.2 s early.
   */
  refreshMarginMs?: (lifetimeMs: number) => number;
}

interface Entry {
  token: Token;
  obtained: number;
}

/** Tokens by key, one fetch in flight per key, renewed shortly before they expire. */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Token>>();
  private readonly now: () => number;
  private readonly margin: (lifetimeMs: number) => number;

  constructor(options: TokenCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.margin = options.refreshMarginMs ?? ((lifetime) => Math.min(30_000, lifetime / 10));
  }

  /** A fresh cached token, or the result of `fetch` (shared with concurrent callers). */
  get(key: string, fetch: () => Promise<Token>): Promise<Token> {
    const fresh = this.fresh(key);
    if (fresh) return Promise.resolve(fresh);
    let pending = this.inflight.get(key);
    if (!pending) {
      const obtained = this.now();
      pending = fetch()
        .then((token) => {
          this.entries.set(key, { token, obtained });
          return token;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** A cached token that is not about to expire, if any. */
  fresh(key: string): Token | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const lifetime = entry.token.expiresAt - entry.obtained;
    if (this.now() >= entry.token.expiresAt - this.margin(lifetime)) return undefined;
    return entry.token;
  }

  /** Forgets `token` under `key` (after a 401), unless a newer one has already replaced it. */
  invalidate(key: string, token: string | undefined): void {
    const entry = this.entries.get(key);
    if (entry && (token === undefined || entry.token.value === token)) this.entries.delete(key);
  }
}
