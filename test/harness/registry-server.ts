/**
 * Starts the real CNCF registry (`/usr/bin/docker-registry`, distribution 2.8) on 127.0.0.1 for a test,
 * behind a logging front that clients use: anonymous, htpasswd Basic, or nvcr.io-like token auth;
 * optionally as a pull-through cache of another registry (`proxy`).
 *
 * In "token" mode the credentials are `$oauthtoken` + an API key, the challenge has no `service`, the
 * realm is `http://<host>/proxy_auth`, and tokens live `tokenTtlSeconds` (checked strictly by the front).
 *
 * @example
 * ```ts
 * const server = await startRegistry({ auth: "token", tokenTtlSeconds: 3 });
 * // skopeo copy ... --dest-creds "$oauthtoken:<server.password>" docker://<server.host>/org/app:1
 * server.tokenRequests; // tokens issued so far
 * await server.stop();
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startFront, type Front, type Interceptor, type LoggedRequest } from "./front-proxy.js";
import { createTokenIssuer, OAUTH_USERNAME, parseScopes, type TokenIssuer } from "./token-issuer.js";
import { freePort, run, tmpDir, type TmpDir } from "./tools.js";

export type RegistryAuth = "anonymous" | "basic" | "token";

export interface RegistryOptions {
  auth: RegistryAuth;
  /** Token lifetime in "token" mode (default 600, like nvcr.io). */
  tokenTtlSeconds?: number;
  /** In "token" mode, hand out pull-only tokens to clients without credentials. */
  anonymousPull?: boolean;
  /** Accept Docker schema 1 manifests (`compatibility.schema1.enabled`). */
  schema1?: boolean;
  /** Accept manifests whose non-distributable layers list `urls` (refused by default). */
  layerUrls?: boolean;
  /**
   * Pull-through cache mode (`proxy.remoteurl`): the registry serves what `remoteUrl` has,
   * fetching it with these credentials and keeping a copy. Use with `auth: "anonymous"`.
   */
  proxy?: { remoteUrl: string; username?: string; password?: string };
}

export interface RegistryServer {
  /** `127.0.0.1:PORT` of the front: what clients use. */
  host: string;
  /** `http://` + host. */
  url: string;
  auth: RegistryAuth;
  /** Basic: the htpasswd user; token: `$oauthtoken`. Unset when anonymous. */
  username?: string;
  /** Basic: the password; token: the API key. */
  password?: string;
  /** Tokens issued by `/proxy_auth` (token mode). */
  readonly tokenRequests: number;
  /** Every request seen by the front, in order. */
  requests: LoggedRequest[];
  /** Optional hook run before proxying; return true when it answered (to inject 429s, 500s, cut bodies...). */
  intercept?: Interceptor;
  /** Sends a request straight to the registry (not logged, not counted) with full rights, e.g. HEAD a manifest. */
  adminFetch(path: string, init?: RequestInit): Promise<Response>;
  /** Signs a token (token mode) without going through `/proxy_auth`; not counted. */
  mintToken(scopes: string[], ttlSeconds?: number): string;
  /** Token mode: the front answers every token handed out so far as expired; later ones are valid. */
  expireTokens(): void;
  stop(): Promise<void>;
}

const REGISTRY_BINARY = "/usr/bin/docker-registry";
const running = new Set<ChildProcess>();
process.on("exit", () => running.forEach((child) => child.kill("SIGKILL")));

export async function startRegistry(options: RegistryOptions): Promise<RegistryServer> {
  const tmp = await tmpDir("sregistry-registry-");
  try {
    return await startIn(tmp, options);
  } catch (err) {
    await tmp.cleanup();
    throw err;
  }
}

async function startIn(tmp: TmpDir, options: RegistryOptions): Promise<RegistryServer> {
  const requests: LoggedRequest[] = [];
  const creds = await makeCredentials(tmp.path, options);
  let intercept: Interceptor | undefined;
  const frontOptions = { backendPort: 0, requests, tokenIssuer: creds.issuer, interceptor: () => intercept };
  const front = await startFront(frontOptions);
  let child: ChildProcess;
  let backendPort: number;
  try {
    ({ child, port: backendPort } = await spawnOnFreePort(tmp.path, front.port, options, creds));
  } catch (err) {
    await front.close();
    throw err;
  }
  frontOptions.backendPort = backendPort; // the front reads it on every request
  const adminAuth = (path: string) => adminAuthorization(path, creds);
  const server: RegistryServer = {
    get intercept() {
      return intercept;
    },
    set intercept(hook) {
      intercept = hook;
    },
    host: `127.0.0.1:${front.port}`,
    url: `http://127.0.0.1:${front.port}`,
    auth: options.auth,
    username: creds.username,
    password: creds.password,
    get tokenRequests() {
      return creds.issuer?.issued ?? 0;
    },
    requests,
    expireTokens: () => creds.issuer?.expireIssued(),
    adminFetch: (path, init = {}) => {
      const headers = new Headers(init.headers);
      const authorization = adminAuth(path);
      if (authorization && !headers.has("authorization")) headers.set("authorization", authorization);
      return fetch(`http://127.0.0.1:${backendPort}${path}`, { ...init, headers });
    },
    mintToken: (scopes, ttl) => {
      if (!creds.issuer) throw new Error("mintToken needs a token-auth registry");
      return creds.issuer.mint(parseScopes(scopes), ttl);
    },
    stop: () => stopAll(child, front, tmp),
  };
  if (creds.username === undefined) delete server.username;
  if (creds.password === undefined) delete server.password;
  return server;
}

interface Credentials {
  username?: string;
  password?: string;
  htpasswdPath?: string;
  issuer?: TokenIssuer;
}

async function makeCredentials(dir: string, options: RegistryOptions): Promise<Credentials> {
  if (options.auth === "basic") {
    const username = "sregistry-test";
    const password = randomBytes(12).toString("hex");
    const htpasswdPath = join(dir, "htpasswd");
    const line = await run("htpasswd", ["-Bbn", username, password], { secrets: [password] });
    await writeFile(htpasswdPath, line.stdout.trim() + "\n");
    return { username, password, htpasswdPath };
  }
  if (options.auth === "token") {
    const apiKey = "nvapi-" + randomBytes(24).toString("base64url");
    const issuer = await createTokenIssuer(dir, {
      apiKey,
      ttlSeconds: options.tokenTtlSeconds ?? 600,
      anonymousPull: options.anonymousPull ?? false,
    });
    return { username: OAUTH_USERNAME, password: apiKey, issuer };
  }
  return {};
}

function registryConfig(
  dir: string,
  port: number,
  frontPort: number,
  options: RegistryOptions,
  creds: Credentials,
): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "storage")}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString("hex")}`,
  ];
  if (creds.htpasswdPath) {
    lines.push("auth:", "  htpasswd:", "    realm: sregistry-test", `    path: ${creds.htpasswdPath}`);
  }
  if (creds.issuer) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: http://127.0.0.1:${frontPort}/proxy_auth`,
      `    service: ${creds.issuer.service}`,
      `    issuer: ${creds.issuer.issuer}`,
      `    rootcertbundle: ${creds.issuer.certPath}`,
    );
  }
  if (options.proxy) {
    lines.push("proxy:", `  remoteurl: ${options.proxy.remoteUrl}`);
    if (options.proxy.username !== undefined) lines.push(`  username: "${options.proxy.username}"`);
    if (options.proxy.password !== undefined) lines.push(`  password: "${options.proxy.password}"`);
  }
  if (options.schema1) lines.push("compatibility:", "  schema1:", "    enabled: true");
  if (options.layerUrls) {
    lines.push("validation:", "  manifests:", "    urls:", "      allow:", "        - ^https?://");
  }
  return lines.join("\n") + "\n";
}

/** Picks a free port and starts the registry on it; retries when the port was taken in between. */
async function spawnOnFreePort(
  dir: string,
  frontPort: number,
  options: RegistryOptions,
  creds: Credentials,
): Promise<{ child: ChildProcess; port: number }> {
  const configPath = join(dir, "config.yml");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(configPath, registryConfig(dir, port, frontPort, options, creds));
    try {
      return { child: await spawnRegistry(configPath, port), port };
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

async function spawnRegistry(configPath: string, port: number): Promise<ChildProcess> {
  const child = spawn(REGISTRY_BINARY, ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  let exited = false;
  // "close" comes after stderr is drained, so the reason for an early exit is in `stderr`.
  child.on("close", () => {
    exited = true;
    running.delete(child);
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`docker-registry exited at start: ${stderr.trim()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 15 s: ${stderr.trim()}`);
}

function adminAuthorization(path: string, creds: Credentials): string | undefined {
  if (creds.htpasswdPath) {
    return "Basic " + Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
  }
  if (creds.issuer) {
    const repo = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(path)?.[1];
    const scopes = ["registry:catalog:*", ...(repo ? [`repository:${repo}:*`] : [])];
    return "Bearer " + creds.issuer.mint(parseScopes(scopes), 300, "admin");
  }
  return undefined;
}

async function stopAll(child: ChildProcess, front: Front, tmp: TmpDir): Promise<void> {
  await front.close();
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
  await tmp.cleanup();
}
