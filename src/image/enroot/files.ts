/**
 * The files `enroot import docker://…` writes into an image from its config, reproduced so that a
 * squashfs we build starts under `enroot start` and Pyxis exactly like one enroot imported itself.
 * Source: enroot's `docker::configure` (src/docker.sh, github.com/NVIDIA/enroot):
 *
 * - `/etc/environment`: the config's `Env`, one `KEY=value` per line, unquoted. enroot's runtime
 *   reads it line by line (`common::envsubst`: `${VAR}` is replaced from the host environment), so a
 *   value cannot hold a newline: such entries (and entries without `=`) are left out and reported.
 * - `/etc/rc`: provenance and labels as comments, then `cd` to `WorkingDir` (default `/`), source
 *   `/etc/rc.local`, and `exec` the entrypoint with the user's arguments, or with `Cmd` when there
 *   are none; `/bin/sh` when the image has neither. Words are single-quoted (bash's `@Q`).
 * - `/etc/rc.local`: enroot's two comment lines; `/etc/fstab`: one bind line per `Volumes` entry.
 *
 * Like enroot, only array forms of `Entrypoint`/`Cmd` are used (its `jq '.Entrypoint[]?'` yields
 * nothing for a string).
 *
 * @example
 * ```ts
 * enrootRc({ config: { Entrypoint: ["/init"], Cmd: ["bash"] } }, "docker://nvcr.io#nvidia/pytorch:24.01-py3");
 * // "# enroot-provenance: docker://…\n\nmkdir -p \"/\" 2> /dev/null\n…exec '/init' \"$@\"\n…"
 * ```
 */
import type { ImageConfig } from "../../oci/types.js";

export interface EnrootEnvironment {
  /** The file's text (ends with a newline unless empty). */
  text: string;
  /** `Env` entries left out: no `=`, or a newline / NUL that the line format cannot carry. */
  skipped: string[];
}

/** `/etc/environment` as enroot writes it. @example enrootEnvironment(config).text // "PATH=/usr/bin\n" */
export function enrootEnvironment(config: ImageConfig): EnrootEnvironment {
  const env = Array.isArray(config.config?.Env) ? config.config.Env : [];
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const entry of env) {
    if (typeof entry !== "string") continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(entry) && !/[\n\r\0]/.test(entry)) lines.push(entry);
    else skipped.push(entry);
  }
  return { text: lines.map((line) => line + "\n").join(""), skipped };
}

/** Quotes one word for a POSIX shell as bash's `${word@Q}` does: `'a b'`, `'it'\''s'`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `/etc/rc` as enroot writes it; `uri` is the provenance line's value. */
export function enrootRc(config: ImageConfig, uri: string): string {
  const container = config.config ?? {};
  const entrypoint = wordsOf(container.Entrypoint);
  let cmd = wordsOf(container.Cmd);
  if (entrypoint.length === 0 && cmd.length === 0) cmd = ["/bin/sh"];
  const workdir = workingDir(config) || "/";
  let head = `# enroot-provenance: ${oneLine(uri)}\n`;
  for (const [key, value] of Object.entries(container.Labels ?? {})) {
    head += `# ${oneLine(key)} ${oneLine(String(value))}\n`;
  }
  const ep = entrypoint.map(shellQuote).join(" ");
  const command = cmd.map(shellQuote).join(" ");
  const dir = doubleQuoted(workdir);
  return (
    head +
    "\n" +
    `mkdir -p ${dir} 2> /dev/null\n` +
    `cd ${dir} && unset OLDPWD || exit 1\n` +
    "\n" +
    "if [ -s /etc/rc.local ]; then\n" +
    "    . /etc/rc.local\n" +
    "fi\n" +
    "\n" +
    "if [ $# -gt 0 ]; then\n" +
    `    exec ${ep} "$@"\n` +
    "else\n" +
    `    exec ${ep} ${command}\n` +
    "fi\n"
  );
}

/** `/etc/rc.local`: the hook enroot leaves for users (sourced by `/etc/rc`). */
export const ENROOT_RC_LOCAL =
  "# This file is sourced by /etc/rc when the container starts.\n" +
  "# It can be used to manipulate the entrypoint or the command of the container.\n";

/** `/etc/fstab`: each config volume as a bind mount of a directory in the container's rootfs. */
export function enrootFstab(config: ImageConfig): string {
  const volumes = Object.keys(config.config?.Volumes ?? {}).filter((v) => !/[\s\0]/.test(v));
  return volumes.map((v) => `\${ENROOT_ROOTFS}${v} ${v} none x-create=dir,bind,rw,nosuid,nodev\n`).join("");
}

/** The config's `WorkingDir` (absolute, or "" when unset). */
export function workingDir(config: ImageConfig): string {
  const dir = config.config?.WorkingDir;
  return typeof dir === "string" && !/[\n\0]/.test(dir) ? dir : "";
}

function wordsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((w): w is string => typeof w === "string") : [];
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, " ");
}

/** A double-quoted shell word with `"`, `\`, `$` and backquote escaped (enroot inserts it raw). */
function doubleQuoted(text: string): string {
  return `"${text.replace(/["\\$`]/g, "\\$&")}"`;
}
