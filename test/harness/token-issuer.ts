/**
 * A token issuer shaped like nvcr.io's `/proxy_auth`: Basic `$oauthtoken:<API key>` in, a JWT that the
 * real CNCF registry (auth.token) accepts out.
 *
 * The signing key and its self-signed certificate are made with `openssl` at start; the registry
 * trusts the certificate through `rootcertbundle`, and every JWT carries it in its `x5c` header.
 *
 * @example
 * ```ts
 * const issuer = await createTokenIssuer(dir, { apiKey: "nvapi-x", ttlSeconds: 600, anonymousPull: false });
 * const jwt = issuer.mint([{ type: "repository", name: "nvidia/app", actions: ["pull"] }]);
 * // registry config: auth.token { realm, service: issuer.service, issuer: issuer.issuer, rootcertbundle: issuer.certPath }
 * ```
 */
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { run } from "./tools.js";

/** One `access` claim entry, as distribution's token auth reads it. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenIssuerOptions {
  apiKey: string;
  ttlSeconds: number;
  anonymousPull: boolean;
}

export interface TokenIssuer {
  /** `iss` claim, configured as auth.token.issuer. */
  readonly issuer: string;
  /** `aud` claim, configured as auth.token.service. */
  readonly service: string;
  /** PEM certificate file for auth.token.rootcertbundle. */
  readonly certPath: string;
  /** Number of tokens handed out by `/proxy_auth` (not counting `mint` calls by the harness). */
  readonly issued: number;
  /** Signs a JWT granting `access`, valid for `ttlSeconds` (default: the issuer's ttl). */
  mint(access: AccessEntry[], ttlSeconds?: number, subject?: string): string;
  /** Answers `GET /proxy_auth?scope=...` like nvcr.io. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Treats every token handed out so far as expired from now on, as if its lifetime had run out;
   * tokens issued later are valid. Lets a test expire a token mid-pull without waiting on a clock.
   */
  expireIssued(): void;
  /** Whether `token` was handed out before the last `expireIssued()`. */
  expiredByTest(token: string): boolean;
}

export const OAUTH_USERNAME = "$oauthtoken";

/** Generates the EC P-256 key and certificate in `dir` and returns the issuer. */
export async function createTokenIssuer(dir: string, options: TokenIssuerOptions): Promise<TokenIssuer> {
  const keyPath = join(dir, "token-key.pem");
  const certPath = join(dir, "token-cert.pem");
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=sregistry-test-token-issuer",
  ]); // prettier-ignore
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw.toString("base64");
  return new Issuer(key, certDer, certPath, options);
}

class Issuer implements TokenIssuer {
  readonly issuer = "authn.sregistry.test";
  readonly service = "registry";
  issued = 0;
  private readonly handedOut = new Set<string>();
  private readonly expired = new Set<string>();

  constructor(
    private readonly key: KeyObject,
    private readonly certDer: string,
    readonly certPath: string,
    private readonly options: TokenIssuerOptions,
  ) {}

  mint(access: AccessEntry[], ttlSeconds = this.options.ttlSeconds, subject = OAUTH_USERNAME): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", x5c: [this.certDer] };
    const claims = {
      iss: this.issuer,
      sub: subject,
      aud: this.service,
      exp: now + ttlSeconds,
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JWS ES256 wants the raw r||s signature, not DER.
    const signature = sign("sha256", Buffer.from(signingInput), { key: this.key, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${base64url(signature)}`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://front");
    const requested = parseScopes(url.searchParams.getAll("scope"));
    const who = authenticate(req.headers.authorization, this.options.apiKey);
    if (who === "bad" || (who === "anonymous" && !this.options.anonymousPull)) {
      return sendJson(res, 401, {
        errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }],
      });
    }
    const granted = who === "user" ? requested : pullOnly(requested);
    this.issued += 1;
    const token = this.mint(granted, undefined, who === "user" ? OAUTH_USERNAME : "");
    this.handedOut.add(token);
    sendJson(res, 200, { token, expires_in: this.options.ttlSeconds, issued_at: new Date().toISOString() });
  }

  expireIssued(): void {
    for (const token of this.handedOut) this.expired.add(token);
    this.handedOut.clear();
  }

  expiredByTest(token: string): boolean {
    return this.expired.has(token);
  }
}

function authenticate(header: string | undefined, apiKey: string): "user" | "anonymous" | "bad" {
  if (!header) return "anonymous";
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return "bad";
  const decoded = Buffer.from(match[1]!, "base64").toString();
  const colon = decoded.indexOf(":");
  const user = decoded.slice(0, colon);
  const pass = decoded.slice(colon + 1);
  return colon > 0 && user === OAUTH_USERNAME && pass === apiKey ? "user" : "bad";
}

/** Parses `repository:name:pull,push` scopes (several params, or space-separated in one). */
export function parseScopes(values: string[]): AccessEntry[] {
  const entries: AccessEntry[] = [];
  for (const scope of values.flatMap((v) => v.split(" ")).filter(Boolean)) {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first < 0 || last === first) continue;
    const actions = scope
      .slice(last + 1)
      .split(",")
      .filter(Boolean);
    entries.push({ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions });
  }
  return entries;
}

function pullOnly(entries: AccessEntry[]): AccessEntry[] {
  return entries
    .filter((e) => e.type === "repository")
    .map((e) => ({ ...e, actions: e.actions.filter((a) => a === "pull") }))
    .filter((e) => e.actions.length > 0);
}

/** Reads `exp` from a JWT without checking it (the registry checks signatures). */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
