/**
 * `/.singularity.d/runscript` for an image pulled from a registry, built from ENTRYPOINT and CMD.
 *
 * Behaves like Apptainer's OCI runscript. The script starts with `OCI_ENTRYPOINT='…'` and
 * `OCI_CMD='…'` (each element double-quoted and escaped, joined by spaces, the whole single-quoted)
 * and then chooses between two modes at run time:
 *
 * - `SINGULARITY_NO_EVAL` set (Apptainer `--no-eval`): OCI-exact. The command is ENTRYPOINT followed
 *   by the user's arguments, or by CMD when there are none; nothing is evaluated by a shell.
 * - otherwise, the historical mode: ENTRYPOINT, then CMD or the user's arguments, are joined into one
 *   string that is evaluated (`eval "set -- …"`). ENTRYPOINT/CMD elements are escaped, so they arrive
 *   verbatim; user arguments are wrapped in double quotes *without* escaping, exactly as Apptainer
 *   does, so `$VAR`, `$(…)` and backticks in them are expanded inside the container (and a bare `"`
 *   in an argument is a shell syntax error: use `SINGULARITY_NO_EVAL` for such arguments).
 *
 * Deliberate differences from Apptainer's template: `set --` instead of `set` (a first word starting
 * with `-` is not taken as a shell option, and an empty command does not print all variables), and
 * a clear error with exit status 1 when there is nothing to run.
 *
 * A shell-form (string) Entrypoint or Cmd is turned into `["/bin/sh", "-c", <string>]` as Docker does.
 * `preferCmd` (the original's `SREGISTRY_DOCKER_CMD`): when the image sets both, CMD becomes the
 * command and ENTRYPOINT is ignored; with only one of them set it changes nothing.
 *
 * @example
 * ```ts
 * const text = runscript({ Entrypoint: ["/entry.sh"], Cmd: ["--help"] });
 * // sh runscript       → /entry.sh --help
 * // sh runscript x y   → /entry.sh x y
 * ```
 */
import type { ContainerConfig } from "../../oci/types.js";
import { argsQuoted, escapeSingleQuoted, singleQuote } from "./shell-quote.js";

export interface RunscriptOptions {
  /** Use CMD alone when both ENTRYPOINT and CMD are set (SREGISTRY_DOCKER_CMD). */
  preferCmd?: boolean;
}

/** Docker's reading of an Entrypoint/Cmd value: exec form as is, shell form run by `/bin/sh -c`. */
export function commandArgv(value: string[] | string | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return ["/bin/sh", "-c", value];
  return [...value];
}

/** The ENTRYPOINT and CMD the runscript will use, after shell-form and `preferCmd` handling. */
export function effectiveCommand(
  config: ContainerConfig | undefined,
  options: RunscriptOptions = {},
): { entrypoint: string[]; cmd: string[] } {
  const entrypoint = commandArgv(config?.Entrypoint);
  const cmd = commandArgv(config?.Cmd);
  if (options.preferCmd === true && cmd.length > 0) return { entrypoint: [], cmd };
  return { entrypoint, cmd };
}

/** The whole runscript text. */
export function runscript(config: ContainerConfig | undefined, options: RunscriptOptions = {}): string {
  const { entrypoint, cmd } = effectiveCommand(config, options);
  return [
    "#!/bin/sh",
    `OCI_ENTRYPOINT='${escapeSingleQuoted(argsQuoted(entrypoint))}'`,
    `OCI_CMD='${escapeSingleQuoted(argsQuoted(cmd))}'`,
    "",
    "# SINGULARITY_NO_EVAL set: run exactly what an OCI runtime would run. ENTRYPOINT always comes",
    "# first; CMD supplies the arguments only when none were given. Nothing is evaluated.",
    'if [ -n "${SINGULARITY_NO_EVAL:-}" ]; then',
    "    if [ $# -eq 0 ]; then",
    ...prependLines(cmd, "        "),
    "    fi",
    ...prependLines(entrypoint, "    "),
    "else",
    "    # Historical behaviour: build one command string and let the shell evaluate it, so that",
    "    # variables and substitutions in the arguments are expanded inside the container.",
    '    SINGULARITY_OCI_RUN="${OCI_ENTRYPOINT}"',
    "    if [ $# -gt 0 ]; then",
    '        for arg in "$@"; do',
    '            SINGULARITY_OCI_RUN="${SINGULARITY_OCI_RUN} \\"$arg\\""',
    "        done",
    "    else",
    '        SINGULARITY_OCI_RUN="${SINGULARITY_OCI_RUN} ${OCI_CMD}"',
    "    fi",
    '    eval "set -- ${SINGULARITY_OCI_RUN}"',
    "fi",
    "",
    "if [ $# -eq 0 ]; then",
    '    echo "runscript: the image defines neither ENTRYPOINT nor CMD; give a command to run" >&2',
    "    exit 1",
    "fi",
    'exec "$@"',
    "",
  ].join("\n");
}

/**
 * `set -- '<elem>' "$@"` lines, last element first, so that the elements end up in order in front
 * of the current arguments. A `:` keeps the block valid shell when there are no elements.
 */
function prependLines(elements: readonly string[], indent: string): string[] {
  const lines = [`${indent}:`];
  for (let i = elements.length - 1; i >= 0; i--) {
    lines.push(`${indent}set -- ${singleQuote(elements[i] ?? "")} "$@"`);
  }
  return lines;
}
