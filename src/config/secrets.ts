/**
 * The secrets/settings JSON file (`~/.sregistry`, or SREGISTRY_CLIENT_SECRETS), read and written safely.
 *
 * Format (the original sregistry-cli's `~/.sregistry` secrets file, read and written by both): a JSON object whose top-level
 * `SREGISTRY_CLIENT` names the default backend and whose other keys are backend names holding that
 * backend's settings, e.g. `{"nvidia": {"SREGISTRY_NVIDIA_TOKEN": "…"}}`. Written with indent 4 and
 * no trailing newline like the original.
 *
 * Deviations from the original, on purpose:
 * - reading never creates the file (the original created one in the user's home on first run);
 * - writes are atomic (temp file with mode 0600 in the same folder, fsync, rename), so the file is
 *   always either the old or the new content, and it always ends up 0600 even when the old file
 *   was readable by others (it holds API keys in plain text);
 * - when the path is a symbolic link (dotfiles setups) the link's target is replaced, not the link.
 *
 * Values of keys that look like credentials (…TOKEN, …PASSWORD, token, password) are registered
 * with `registerSecret` as soon as the file is read, so they can never reach a log line.
 *
 * @example
 * ```ts
 * const secrets = readSecrets(settings.clientSecretsPath);
 * updateSecrets(settings.clientSecretsPath, (s) => ({ ...s, SREGISTRY_CLIENT: "nvidia" }));
 * ```
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import { registerSecret } from "../util/redact.js";

/** The whole file: a default client plus one settings object per backend. */
export type SecretsFile = { SREGISTRY_CLIENT?: string; [backend: string]: unknown };

/** Keys whose values are credentials and must be registered for redaction. */
const CREDENTIAL_KEY = /(^|_)(TOKEN|PASSWORD|PASSWD|API_?KEY)$/i;

/** Reads the file; a missing file is `{}`; malformed JSON or a non-object is a SregistryError. */
export function readSecrets(path: string): SecretsFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (isErrnoCode(err, "ENOENT")) return {};
    throw new SregistryError(`cannot read the secrets file ${path}: ${(err as Error).message}`, {
      code: "SECRETS",
      cause: err,
    });
  }
  const data = parseSecretsText(text, path);
  registerCredentials(data);
  return data;
}

/** Parses the file's text; the error names the file but never quotes its content (it holds keys). */
function parseSecretsText(text: string, path: string): SecretsFile {
  if (text.trim() === "") return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SregistryError(`the secrets file ${path} is not valid JSON; fix or remove it`, {
      code: "SECRETS",
    });
  }
  if (!isPlainObject(data)) {
    throw new SregistryError(`the secrets file ${path} must hold a JSON object; fix or remove it`, {
      code: "SECRETS",
    });
  }
  return data as SecretsFile;
}

/** Registers every credential-looking string value at the top level and one level down. */
function registerCredentials(data: SecretsFile): void {
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === "string" && CREDENTIAL_KEY.test(key)) registerSecret(value);
    if (!isPlainObject(value)) continue;
    for (const [inner, innerValue] of Object.entries(value)) {
      if (typeof innerValue === "string" && CREDENTIAL_KEY.test(inner)) registerSecret(innerValue);
    }
  }
}

/** Writes the file atomically with mode 0600 (indent 4, no trailing newline). */
export function writeSecrets(path: string, data: SecretsFile): void {
  const target = resolveLink(path);
  const folder = dirname(target);
  const temp = join(folder, `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    const text = JSON.stringify(data, null, 4);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeDurably(temp, text);
    renameSync(temp, target);
  } catch (err) {
    removeQuietly(temp);
    throw new SregistryError(`cannot write the secrets file ${path}: ${(err as Error).message}`, {
      code: "SECRETS",
      cause: err,
    });
  }
  syncFolder(folder);
}

/** Read-modify-write: `fn` gets the current content (or `{}`) and returns the new content. */
export function updateSecrets(path: string, fn: (current: SecretsFile) => SecretsFile): SecretsFile {
  const updated = fn(readSecrets(path));
  writeSecrets(path, updated);
  return updated;
}

/** The settings object of one backend in the file, or `{}` when absent or not an object. */
export function backendSection(secrets: SecretsFile, backend: string): Record<string, unknown> {
  const section = secrets[backend];
  return isPlainObject(section) ? section : {};
}

/** Creates `temp` exclusively with mode 0600, writes `text`, and flushes it to disk. */
function writeDurably(temp: string, text: string): void {
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entry list so the rename survives a crash; not every platform allows it. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, "r");
    fsyncSync(fd);
  } catch {
    // Best effort: fsync on a directory fails on some file systems; the rename itself is atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Deletes a leftover temp file; a failure here must not hide the original error. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // The folder itself is unusable (that is why we are here); nothing was left in it.
  }
}

/** Follows a symbolic link so the link survives and its target is replaced; missing → as given. */
function resolveLink(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
