/**
 * Shell quoting used by the generated `/.singularity.d` scripts, with Apptainer's exact rules.
 *
 * `escapeDoubleQuoted` makes a value safe inside a POSIX double-quoted string (it escapes `\`, `"`,
 * backtick and `$`, in that order, one backslash level). `singleQuote` wraps a value in single
 * quotes, closing and reopening around embedded `'` (`'` → `'"'"'`), so nothing in it is expanded.
 *
 * @example
 * ```ts
 * escapeDoubleQuoted('say "hi" $USER'); // 'say \\"hi\\" \\$USER'
 * singleQuote("it's");                  // `'it'"'"'s'`
 * argsQuoted(["echo", "a b"]);          // '"echo" "a b"'
 * ```
 */

/** Escapes `\`, `"`, backtick and `$` (in that order) for use between double quotes. */
export function escapeDoubleQuoted(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/`/g, "\\`").replace(/\$/g, "\\$");
}

/** Replaces every `'` so the text can sit between single quotes: `'` → `'"'"'`. */
export function escapeSingleQuoted(value: string): string {
  return value.replace(/'/g, `'"'"'`);
}

/** The value as one single-quoted shell word. */
export function singleQuote(value: string): string {
  return `'${escapeSingleQuoted(value)}'`;
}

/** Each argument double-quoted and escaped, joined by single spaces (Apptainer's `ArgsQuoted`). */
export function argsQuoted(args: readonly string[]): string {
  return args.map((arg) => `"${escapeDoubleQuoted(arg)}"`).join(" ");
}
