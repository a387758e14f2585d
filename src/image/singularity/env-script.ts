/**
 * `/.singularity.d/env/10-docker2singularity.sh`: the image's `Env` as a POSIX shell script.
 *
 * Rules shared by Apptainer and SingularityCE: first line `#!/bin/sh`, then one `export` line per
 * `Env` entry in order; names that are not shell identifiers are skipped; `NAME` without `=` keeps
 * whatever the caller has (`export NAME="${NAME:-}"`); `PATH` is always set to the image value;
 * any other variable only gets the image value as a default, so a value already present in the
 * environment (e.g. passed with `--env`) wins.
 *
 * @example
 * ```ts
 * dockerEnvScript(["PATH=/usr/bin", "LANG=C.UTF-8"]);
 * // #!/bin/sh
 * // export PATH="/usr/bin"
 * // export LANG="${LANG:-"C.UTF-8"}"
 * ```
 */
import { escapeDoubleQuoted } from "./shell-quote.js";

const SHELL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The whole script text, ending with a newline. */
export function dockerEnvScript(env: readonly string[] | null | undefined): string {
  const lines = ["#!/bin/sh"];
  for (const entry of env ?? []) {
    const line = exportLine(entry);
    if (line !== undefined) lines.push(line);
  }
  return lines.join("\n") + "\n";
}

/** One `export` line for a `NAME=value` entry, or undefined when the name is not a shell identifier. */
function exportLine(entry: string): string | undefined {
  const eq = entry.indexOf("=");
  const name = eq < 0 ? entry : entry.slice(0, eq);
  if (!SHELL_NAME.test(name)) return undefined;
  if (eq < 0) return `export ${name}="\${${name}:-}"`;
  const value = escapeDoubleQuoted(entry.slice(eq + 1));
  if (name === "PATH") return `export PATH="${value}"`;
  return `export ${name}="\${${name}:-"${value}"}"`;
}
