/**
 * `SREGISTRY_DATABASE=postgresql://user@host:port/db?sslmode=…` → node-postgres settings, with
 * libpq's meaning for each part (https://www.postgresql.org/docs/current/libpq-connect.html):
 *
 * - user: the URL's, else `PGUSER`, else the login name; database: the URL's, else the user name;
 *   host `localhost` and port 5432 when absent.
 * - password: the URL's, else `PGPASSWORD`, else the first matching line of `~/.pgpass` (or
 *   `PGPASSFILE`), `host:port:database:user:password` with `*` wildcards and `\:` `\\` escapes,
 *   ignored — as libpq does — unless the file is private to its owner (no group/other bits,
 *   https://www.postgresql.org/docs/current/libpq-pgpass.html).
 * - `sslmode`: `disable` (no TLS), `allow`/`prefer` (no TLS: node-postgres cannot retry without it,
 *   so these mean plain connections), `require` (TLS, no certificate check — unless a root CA is
 *   given, then as `verify-ca`), `verify-ca` (the chain must lead to the root CA, any host name),
 *   `verify-full` (chain and host name). The root CA is `sslrootcert`, else
 *   `~/.postgresql/root.crt` when it exists, else the system's; `sslrootcert=system` means the
 *   system's. `sslcert`/`sslkey` give a client certificate.
 *
 * The password is registered with the redactor and never part of `display`.
 *
 * @example
 * ```ts
 * const target = parsePostgresUrl("postgresql://sreg@db.example.org:5432/catalog?sslmode=verify-full");
 * target.display; // "postgresql://sreg@db.example.org:5432/catalog?sslmode=verify-full"
 * isPostgresUrl("postgres://h/db"); // true
 * ```
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { SregistryError } from "../util/errors.js";
import { registerSecret } from "../util/redact.js";

export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslmode: SslMode;
  /** TLS options for node-postgres; false for a plain connection. */
  ssl: false | ConnectionOptions;
  /** The URL without its password, safe to print. */
  display: string;
}

const SSL_MODES: readonly SslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/** True for a `postgresql://` or `postgres://` URL. */
export function isPostgresUrl(value: string | undefined): boolean {
  return value !== undefined && /^postgres(?:ql)?:\/\//i.test(value.trim());
}

/** A printable form of any database setting: a PostgreSQL URL loses its password. */
export function redactDatabaseUrl(value: string): string {
  return value
    .replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, "$1:***@")
    .replace(/([?&]password=)[^&]*/gi, "$1***");
}

export interface PostgresEnv {
  env: NodeJS.ProcessEnv;
  home: string;
}

/** Parses the URL and gathers credentials and TLS settings; a bad URL is one clear error. */
export function parsePostgresUrl(
  text: string,
  context: PostgresEnv = { env: process.env, home: homedir() },
): PostgresTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw badUrl(text, "it is not a URL");
  }
  const query = url.searchParams;
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, "$1") || "localhost";
  const port = url.port === "" ? 5432 : Number(url.port);
  const user = decodeURIComponent(url.username) || context.env.PGUSER || loginName();
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || user;
  if (database.includes("/")) throw badUrl(text, "the database name is one path segment");
  const sslmode = parseSslMode(query.get("sslmode") ?? context.env.PGSSLMODE ?? "disable", text);
  const password =
    (url.password === "" ? undefined : decodeURIComponent(url.password)) ??
    query.get("password") ??
    nonEmpty(context.env.PGPASSWORD) ??
    pgpassLookup(pgpassPath(context), { host, port, database, user });
  registerSecret(password);
  const target: PostgresTarget = {
    host,
    port,
    database,
    user,
    sslmode,
    ssl: tlsOptions(sslmode, query, context.home),
    display: `postgresql://${encodeURIComponent(user)}@${url.host || host}/${encodeURIComponent(database)}${
      sslmode === "disable" ? "" : `?sslmode=${sslmode}`
    }`,
  };
  if (password !== undefined) target.password = password;
  return target;
}

function badUrl(text: string, reason: string): SregistryError {
  return new SregistryError(
    `SREGISTRY_DATABASE ${redactDatabaseUrl(text)}: ${reason}; write postgresql://user@host:port/database`,
    { code: "USAGE" },
  );
}

function parseSslMode(value: string, text: string): SslMode {
  const mode = SSL_MODES.find((m) => m === value);
  if (!mode) throw badUrl(text, `sslmode "${value.slice(0, 20)}" is not one of ${SSL_MODES.join(", ")}`);
  return mode;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres";
  }
}

function tlsOptions(mode: SslMode, query: URLSearchParams, home: string): false | ConnectionOptions {
  if (mode === "disable" || mode === "allow" || mode === "prefer") return false;
  const rootcert = query.get("sslrootcert") ?? join(home, ".postgresql", "root.crt");
  const ca = rootcert !== "system" && existsSync(rootcert) ? readFileSync(rootcert, "utf8") : undefined;
  const options: ConnectionOptions = {};
  if (ca !== undefined) options.ca = ca;
  const cert = query.get("sslcert");
  const key = query.get("sslkey");
  if (cert) options.cert = readFileSync(cert, "utf8");
  if (key) options.key = readFileSync(key, "utf8");
  // libpq: "require" with a root CA file behaves as "verify-ca".
  const effective = mode === "require" && ca !== undefined ? "verify-ca" : mode;
  if (effective === "require") return { ...options, rejectUnauthorized: false };
  if (effective === "verify-ca")
    return { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...options, rejectUnauthorized: true };
}

function pgpassPath(context: PostgresEnv): string {
  return nonEmpty(context.env.PGPASSFILE) ?? join(context.home, ".pgpass");
}

/** The password of the first matching `.pgpass` line; undefined when none or the file is not private. */
export function pgpassLookup(
  path: string,
  want: { host: string; port: number; database: string; user: string },
): string | undefined {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile() || (stat.mode & 0o077) !== 0) return undefined;
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const wanted = [want.host, String(want.port), want.database, want.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const fields = splitPgpassLine(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, i) => fields[i] === "*" || fields[i] === value))
      return fields.slice(4).join(":");
  }
  return undefined;
}

/** Splits on unescaped `:`; `\:` and `\\` stand for `:` and `\`. */
function splitPgpassLine(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && i + 1 < line.length) current += line[++i];
    else if (c === ":") {
      fields.push(current);
      current = "";
    } else current += c;
  }
  fields.push(current);
  return fields;
}
