/**
 * Making text that came from a registry or an image safe to print on a terminal.
 *
 * A terminal obeys control characters in what it prints: ESC starts a sequence that can clear the
 * screen (`ESC [2J`), set the window title or write to the clipboard (OSC `ESC ] … BEL`); the C1
 * range (U+0080–U+009F) holds one-character forms of the same (U+009B is CSI in ECMA-48); CR and
 * backspace overwrite what was printed. So every control character — C0 (U+0000–U+001F), DEL
 * (U+007F) and C1 — is shown as a visible JSON-style escape (`\u001b`, `\n`, `\t`) instead of being
 * sent: the same spelling `--json` and `inspect` use, so a value reads the same in both outputs.
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the characters of
 * "Trojan Source", CVE-2021-42574) are escaped too: they make a line read differently from what
 * it contains. Marks (U+200E/U+200F) are left alone, as real right-to-left text uses them.
 *
 * `multiline` keeps the two controls a layout of several lines needs, `\n` and `\t` (CRLF counts
 * as one `\n`); without it the result is always exactly one line.
 *
 * Sources: ECMA-48 (C0/C1 sets, CSI, OSC), https://www.unicode.org/reports/tr9/ (bidi controls),
 * https://trojansource.codes/.
 *
 * @example
 * ```ts
 * sanitizeForTerminal("bad\x1b[2Jname");            // "bad\\u001b[2Jname"
 * sanitizeForTerminal("a\nb", { multiline: true }); // "a\nb"
 * sanitizeForTerminal("a\nb");                      // "a\\nb"
 * jsonForTerminal({ label: "\u009b31m" });          // '{\n  "label": "\\u009b31m"\n}'
 * ```
 */

export interface SanitizeOptions {
  /** Keep `\n` and `\t` (for tables and lists); default false: one line. */
  multiline?: boolean;
}

/** Every character a terminal may act on, in one class. */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same without `\n` and `\t`. */
// eslint-disable-next-line no-control-regex -- as above
const UNSAFE_EXCEPT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** Whether a string holds any of them (no `g` flag: `test` keeps no state between calls). */
// eslint-disable-next-line no-control-regex -- as above
const HAS_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Characters that can only occur inside JSON strings but that JSON.stringify leaves raw. */
const JSON_UNESCAPED = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

/** `\u001b`-style escape of one character (JSON's spelling, short forms for \b \t \n \f \r). */
function escapeChar(char: string): string {
  return SHORT[char] ?? "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0");
}

/** Returns `text` with every terminal control character replaced by a visible escape. */
export function sanitizeForTerminal(text: string, options?: SanitizeOptions): string {
  // Fast path: almost every value is plain text, and a scan without a match allocates nothing.
  if (!HAS_UNSAFE.test(text)) return text;
  if (options?.multiline !== true) return text.replace(UNSAFE, escapeChar);
  return text.replace(/\r\n/g, "\n").replace(UNSAFE_EXCEPT_LAYOUT, escapeChar);
}

/**
 * `JSON.stringify(value, null, indent)` that is also safe on a terminal. JSON.stringify escapes
 * C0 controls but leaves DEL, C1 and bidi controls raw; those can only occur inside strings, so
 * escaping them as `\uXXXX` keeps the document valid and its value unchanged.
 */
export function jsonForTerminal(value: unknown, indent = 2): string {
  const json = JSON.stringify(value, null, indent) ?? "null";
  return json.replace(JSON_UNESCAPED, escapeChar);
}

/**
 * Text built by this program for the terminal, whose parts from outside were already sanitised,
 * and which may hold our own escape sequences (colours). Printers pass it through unchanged;
 * a plain string is always sanitised. Create one only where every interpolated value went
 * through `sanitizeForTerminal`.
 *
 * @example
 * ```ts
 * logger.info(TerminalText.trusted(`\x1b[91mContainers:\x1b[0m ${sanitizeForTerminal(name)}`));
 * ```
 */
export class TerminalText {
  private constructor(readonly text: string) {}

  static trusted(text: string): TerminalText {
    return new TerminalText(text);
  }

  toString(): string {
    return this.text;
  }
}
