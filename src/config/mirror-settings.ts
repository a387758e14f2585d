/**
 * Where mirrors come from, merged into one rule list (later sources win for the same prefix):
 *
 * 1. Docker's `daemon.json` `registry-mirrors` (`/etc/docker/daemon.json`, or
 *    `SREGISTRY_DOCKER_DAEMON_JSON`): Docker Hub only, as dockerd uses them; an `http://` URL
 *    means plain http. A URL with a path is refused by dockerd and is refused here too.
 * 2. containers-registries.conf(5) (registries-conf.ts).
 * 3. `SREGISTRY_MIRRORS`: comma-separated `PREFIX=MIRROR` pairs, tried in the order written, e.g.
 *    `nvcr.io=https://cache.site:5000/ngc,docker.io=http://hub-cache:5000`. `MIRROR` is a URL
 *    (`http://` = plain http) or a bare `host[:port][/path]` (https); its path replaces the
 *    prefix's path as a registries.conf `location` would. `SREGISTRY_MIRRORS=none` turns every
 *    mirror source off, so one job can pull straight from the origin.
 *
 * @example
 * ```ts
 * const rules = loadMirrorRules({ SREGISTRY_MIRRORS: "nvcr.io=http://127.0.0.1:5001" }, "/home/ada");
 * rules[0]; // { prefix: "nvcr.io", mirrors: [{ location: "127.0.0.1:5001", insecure: true, pullFromMirror: "all" }], ... }
 * ```
 */
import { readFileSync } from "node:fs";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import {
  isLocation,
  mergeRules,
  readRegistriesConf,
  type MirrorLocation,
  type RegistryRule,
} from "./registries-conf.js";

export const DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json";

/** Every configured rule, daemon.json < registries.conf < SREGISTRY_MIRRORS. */
export function loadMirrorRules(env: NodeJS.ProcessEnv, home: string): RegistryRule[] {
  const setting = env.SREGISTRY_MIRRORS?.trim() ?? "";
  if (setting.toLowerCase() === "none") return [];
  const daemonJson = env.SREGISTRY_DOCKER_DAEMON_JSON?.trim() || DEFAULT_DAEMON_JSON;
  return mergeRules(
    readDaemonJson(daemonJson, daemonJson !== DEFAULT_DAEMON_JSON),
    readRegistriesConf(env, home),
    parseMirrorSetting(setting),
  );
}

/** `registry-mirrors` of a daemon.json as a rule for `docker.io`; none when the file is absent. */
export function readDaemonJson(path: string, required = false): RegistryRule[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (isErrnoCode(err, "ENOENT") && !required) return [];
    throw configError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseDaemonJson(text, path);
}

export function parseDaemonJson(text: string, source: string): RegistryRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw configError(source, "not valid JSON");
  }
  const list = (doc as { "registry-mirrors"?: unknown } | null)?.["registry-mirrors"];
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((u) => typeof u === "string")) {
    throw configError(source, "`registry-mirrors` must be a list of URLs");
  }
  if (list.length === 0) return [];
  const mirrors = list.map((url) => mirrorFromUrl(url, source, { allowPath: false }));
  return [{ prefix: "docker.io", insecure: false, blocked: false, mirrors, source }];
}

/** Parses SREGISTRY_MIRRORS; pairs with the same prefix become one rule, in the order written. */
export function parseMirrorSetting(text: string): RegistryRule[] {
  const source = "SREGISTRY_MIRRORS";
  const byPrefix = new Map<string, RegistryRule>();
  for (const pair of text.split(",").map((p) => p.trim())) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const prefix = (eq < 0 ? "" : pair.slice(0, eq)).trim().toLowerCase();
    if (!isLocation(prefix)) {
      throw configError(source, `"${pair}" is not PREFIX=MIRROR (e.g. nvcr.io=https://cache.site:5000)`);
    }
    const mirror = mirrorFromUrl(pair.slice(eq + 1).trim(), source, { allowPath: true });
    const rule = byPrefix.get(prefix) ?? { prefix, insecure: false, blocked: false, mirrors: [], source };
    rule.mirrors.push(mirror);
    byPrefix.set(prefix, rule);
  }
  return [...byPrefix.values()];
}

function mirrorFromUrl(text: string, source: string, options: { allowPath: boolean }): MirrorLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== "http" && scheme !== "https") {
    throw configError(source, `mirror "${text}" must be an http:// or https:// URL`);
  }
  const location = text
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
  if (!isLocation(location)) throw configError(source, `mirror "${text}" is not host[:port][/path]`);
  if (!options.allowPath && location.includes("/")) {
    throw configError(source, `mirror "${text}" must not have a path (Docker refuses it too)`);
  }
  return { location, insecure: scheme === "http", pullFromMirror: "all" };
}

function configError(where: string, why: string): SregistryError {
  return new SregistryError(`mirror configuration ${where}: ${why}`, { code: "BAD_SETTING" });
}
