/**
 * containers-registries.conf(5), version 2: the `[[registry]]` tables that podman, skopeo,
 * buildah and CRI-O read, parsed into `RegistryRule`s, and the longest-prefix match that picks
 * the rule for an image name.
 *
 * What is read, per containers-registries.conf(5) and containers-registries.conf.d(5):
 * - `prefix` (default: `location`), `location`, `insecure`, `blocked`, `mirror-by-digest-only`;
 * - `[[registry.mirror]]` with `location`, `insecure` and `pull-from-mirror`
 *   (`all` | `digest-only` | `tag-only`; not allowed together with `mirror-by-digest-only`);
 * - a prefix `*.example.com` matches every subdomain of example.com (not example.com itself) and
 *   must not have a `location`;
 * - the files: `$CONTAINERS_REGISTRIES_CONF` alone when set (as containers/image honours it;
 *   here it also skips the drop-in folders, so a test or a job can name its whole
 *   configuration), else `~/.config/containers/registries.conf` when it exists, otherwise
 *   `/etc/containers/registries.conf`, followed by `*.conf` of `/etc/containers/registries.conf.d/`
 *   and `~/.config/containers/registries.conf.d/` in name order. A table in a later file
 *   replaces the table with the same prefix from an earlier one.
 * Everything else (short-name aliases, search registries, credential helpers, version 1 tables)
 * is ignored: it does not concern where a fully qualified name is pulled from. Prefixes that
 * name a tag or digest are not supported and refused.
 *
 * The TOML parser is smol-toml: TOML 1.0 compliant, no dependencies, ESM with types, actively
 * released (`@iarna/toml` has had no release since 2020 and is TOML 0.5).
 *
 * @example
 * ```ts
 * const rules = parseRegistriesConf('[[registry]]\nprefix = "nvcr.io"\n[[registry.mirror]]\nlocation = "cache:5000/ngc"\n', "site.conf");
 * matchRule(rules, "nvcr.io/nvidia/cuda")?.mirrors[0]?.location; // "cache:5000/ngc"
 * ```
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { SregistryError, isErrnoCode } from "../util/errors.js";

export type PullFromMirror = "all" | "digest-only" | "tag-only";

export interface MirrorLocation {
  /** `host[:port][/path]`: the mirror's name for the rule's prefix. */
  location: string;
  /** Plain http to this mirror. */
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

export interface RegistryRule {
  /** `host[:port][/path]` or `*.domain`. */
  prefix: string;
  /** Where the prefix really lives, when rewritten (`location` ≠ `prefix`). */
  location?: string;
  /** Plain http to the rewritten location. */
  insecure: boolean;
  /** Pulls of matching names are refused. */
  blocked: boolean;
  /** In the order they are tried. */
  mirrors: MirrorLocation[];
  /** The file (or setting) the rule came from, for messages. */
  source: string;
}

const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?`;
const PATH = String.raw`(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*`;
const LOCATION = new RegExp(`^${HOST}${PATH}$`);
const WILDCARD = new RegExp(String.raw`^\*\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$`);
const PULL_FROM_MIRROR = new Set<PullFromMirror>(["all", "digest-only", "tag-only"]);

/** True for a `host[:port][/path]` location (no scheme, tag or digest). */
export function isLocation(text: string): boolean {
  return LOCATION.test(text);
}

/** Parses one registries.conf text; a malformed file is a BAD_SETTING error naming it. */
export function parseRegistriesConf(text: string, source: string): RegistryRule[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    throw configError(source, `not valid TOML: ${why}`);
  }
  const tables = doc.registry;
  if (tables === undefined) return [];
  if (!Array.isArray(tables))
    throw configError(source, "`registry` must be an array of tables ([[registry]])");
  return tables.map((table, i) => parseTable(table, `${source}: [[registry]] #${i + 1}`, source));
}

function parseTable(table: unknown, where: string, source: string): RegistryRule {
  if (!isTable(table)) throw configError(where, "not a table");
  const location = optionalString(table, "location", where);
  // An empty prefix defaults to the location too (OpenShift writes `prefix = ""`).
  const prefix = optionalString(table, "prefix", where) || location;
  if (prefix === undefined || prefix === "") throw configError(where, "needs a `prefix` or a `location`");
  const wildcard = prefix.startsWith("*");
  if (wildcard && !WILDCARD.test(prefix)) throw configError(where, `invalid wildcard prefix "${prefix}"`);
  if (wildcard && location)
    throw configError(where, `a wildcard prefix ("${prefix}") cannot have a location`);
  if (!wildcard && !isLocation(prefix)) {
    throw configError(
      where,
      `unsupported prefix "${prefix}" (host[:port][/path] or *.domain; no tag or digest)`,
    );
  }
  if (location !== undefined && location !== "" && !isLocation(location)) {
    throw configError(where, `invalid location "${location}"`);
  }
  const byDigestOnly = optionalBoolean(table, "mirror-by-digest-only", where);
  const mirrors = table.mirror === undefined ? [] : table.mirror;
  if (!Array.isArray(mirrors))
    throw configError(where, "`mirror` must be an array of tables ([[registry.mirror]])");
  return {
    prefix: prefix.toLowerCase(),
    ...(location && location !== prefix ? { location } : {}),
    insecure: optionalBoolean(table, "insecure", where) ?? false,
    blocked: optionalBoolean(table, "blocked", where) ?? false,
    mirrors: mirrors.map((m, i) => parseMirror(m, `${where} mirror #${i + 1}`, byDigestOnly)),
    source,
  };
}

function parseMirror(mirror: unknown, where: string, byDigestOnly: boolean | undefined): MirrorLocation {
  if (!isTable(mirror)) throw configError(where, "not a table");
  const location = optionalString(mirror, "location", where);
  if (location === undefined || !isLocation(location)) {
    throw configError(where, `needs a location host[:port][/path], got "${location ?? ""}"`);
  }
  const policy = optionalString(mirror, "pull-from-mirror", where);
  if (policy !== undefined && policy !== "" && !PULL_FROM_MIRROR.has(policy as PullFromMirror)) {
    throw configError(where, `pull-from-mirror must be all, digest-only or tag-only, not "${policy}"`);
  }
  if (policy && byDigestOnly === true) {
    throw configError(where, "pull-from-mirror cannot be used with mirror-by-digest-only on its registry");
  }
  const pullFromMirror: PullFromMirror = byDigestOnly ? "digest-only" : ((policy || "all") as PullFromMirror);
  return { location, insecure: optionalBoolean(mirror, "insecure", where) ?? false, pullFromMirror };
}

/**
 * Merges rule lists, later lists winning: a rule replaces an earlier rule with the same prefix
 * (in place, so the order of first appearance is kept).
 */
export function mergeRules(...lists: RegistryRule[][]): RegistryRule[] {
  const byPrefix = new Map<string, RegistryRule>();
  for (const list of lists) for (const rule of list) byPrefix.set(rule.prefix, rule);
  return [...byPrefix.values()];
}

/**
 * The rule for an image name `host[:port]/repository`, by the longest matching prefix: a prefix
 * matches when the name equals it or continues with `/`. A wildcard `*.example.com` matches a
 * host ending in `.example.com` and counts as long as that host; on equal length an exact prefix
 * wins.
 */
export function matchRule(rules: RegistryRule[], name: string): RegistryRule | undefined {
  let best: { rule: RegistryRule; length: number; exact: boolean } | undefined;
  for (const rule of rules) {
    const length = matchLength(rule.prefix, name);
    if (length === undefined) continue;
    const exact = !rule.prefix.startsWith("*");
    if (!best || length > best.length || (length === best.length && exact && !best.exact)) {
      best = { rule, length, exact };
    }
  }
  return best?.rule;
}

/** How much of `name` the prefix covers (the host for a wildcard), or undefined when it does not match. */
export function matchLength(prefix: string, name: string): number | undefined {
  const lower = name.toLowerCase();
  if (prefix.startsWith("*.")) {
    const hostEnd = lower.includes("/") ? lower.indexOf("/") : lower.length;
    const host = lower.slice(0, hostEnd).replace(/:\d+$/, "");
    return host.endsWith(prefix.slice(1)) ? hostEnd : undefined;
  }
  if (lower === prefix || lower.startsWith(prefix + "/")) return prefix.length;
  return undefined;
}

/** Which registries.conf files apply, in load order (only those that exist). */
export function registriesConfFiles(env: NodeJS.ProcessEnv, home: string): string[] {
  const override = env.CONTAINERS_REGISTRIES_CONF?.trim();
  if (override) return [override];
  const userDir = join(
    env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || home, ".config"),
    "containers",
  );
  const userMain = join(userDir, "registries.conf");
  const main = existsSync(userMain) ? userMain : "/etc/containers/registries.conf";
  const files = existsSync(main) ? [main] : [];
  for (const dir of ["/etc/containers/registries.conf.d", join(userDir, "registries.conf.d")]) {
    files.push(...dropIns(dir));
  }
  return files;
}

function dropIns(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".conf"))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** Reads and merges the registries.conf files that apply; a named file that is missing is an error. */
export function readRegistriesConf(env: NodeJS.ProcessEnv, home: string): RegistryRule[] {
  const lists = registriesConfFiles(env, home).map((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if (isErrnoCode(err, "ENOENT") && file !== env.CONTAINERS_REGISTRIES_CONF?.trim()) return [];
      throw configError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return parseRegistriesConf(text, file);
  });
  return mergeRules(...lists);
}

function configError(where: string, why: string): SregistryError {
  return new SregistryError(`registries configuration ${where}: ${why}`, { code: "BAD_SETTING" });
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(table: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw configError(where, `\`${key}\` must be a string`);
  return value.trim();
}

function optionalBoolean(table: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw configError(where, `\`${key}\` must be true or false`);
  return value;
}
