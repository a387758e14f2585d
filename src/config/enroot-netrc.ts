/**
 * Parses enroot's credentials file (`$ENROOT_CONFIG_PATH/.credentials`): netrc syntax, one entry
 * per line, `machine HOST login USER password PASSWORD`, `#` comments. This is the subset enroot
 * itself reads (src/docker.sh greps `^machine HOST login USER` line by line, and
 * `common::evalnetrc` in src/common.sh takes everything after the fifth field as the password).
 *
 * A password that starts with `$` is what enroot hands to the shell (`echo <password>`): here it
 * is classified, not run. `$NAME` / `${NAME}` is a plain variable (`kind: "variable"`); anything
 * else starting with `$` (`$(gcloud auth print-access-token)`, `$(aws ecr …)`) is a command
 * (`kind: "command"`) that only an explicit opt-in may run (see registry/enroot-credentials.ts).
 * A line that is not an entry is reported by number, never with its text (it may hold a secret).
 *
 * @example
 * ```ts
 * const { entries, problems } = parseEnrootCredentials("machine nvcr.io login $oauthtoken password nvapi-x\n");
 * entries[0]; // { line: 1, machine: "nvcr.io", login: "$oauthtoken", password: { kind: "literal", value: "nvapi-x" } }
 * ```
 */

export type EnrootPassword =
  { kind: "literal"; value: string } | { kind: "variable"; name: string } | { kind: "command"; text: string };

export interface EnrootEntry {
  /** 1-based line number in the file. */
  line: number;
  machine: string;
  login: string;
  password: EnrootPassword;
}

export interface EnrootProblem {
  line: number;
  /** Why the line was skipped (no content of the line). */
  reason: string;
}

const VARIABLE = /^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$/;
const ENTRY = /^machine\s+(\S+)\s+login\s+(\S+)\s+password\s+(\S.*?)\s*$/;

/** Entries in file order, and the lines that were skipped with the reason. */
export function parseEnrootCredentials(text: string): { entries: EnrootEntry[]; problems: EnrootProblem[] } {
  const entries: EnrootEntry[] = [];
  const problems: EnrootProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const match = ENTRY.exec(trimmed);
    if (!match) {
      problems.push({ line, reason: "not of the form `machine HOST login USER password PASSWORD`" });
      return;
    }
    const [, machine, login, password] = match as unknown as [string, string, string, string];
    if (!password.startsWith("$") && /\s/.test(password)) {
      problems.push({ line, reason: "has more than one word after `password`" });
      return;
    }
    entries.push({ line, machine: machine.toLowerCase(), login, password: classify(password) });
  });
  return { entries, problems };
}

function classify(password: string): EnrootPassword {
  if (!password.startsWith("$")) return { kind: "literal", value: password };
  const variable = VARIABLE.exec(password);
  if (variable) return { kind: "variable", name: (variable[1] ?? variable[2])! };
  return { kind: "command", text: password };
}
