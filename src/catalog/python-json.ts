/**
 * Python's `json.loads` / `json.dumps` as the original tool used them, so our `inspect` output and the
 * `metrics` text we store are byte-for-byte what Python would produce.
 *
 * What differs from `JSON.parse`/`JSON.stringify` and is reproduced here: key order (code point sort),
 * `", "`/`": "` separators without indent, non-ASCII escaped as lowercase `\uXXXX` (`ensure_ascii`),
 * Python float repr (`1.0`, `1e+16`, `1e-05`), `NaN`/`Infinity` accepted and printed, integers of any
 * size. `parsePythonJson` keeps the two things a JS number loses: an integral float literal (`1.0`)
 * becomes a `PyFloat`, an integer beyond 2^53 a `PyInt`; every other value is a plain JS value.
 *
 * @example
 * ```ts
 * pythonJsonDumps({ b: [1, 2.5], a: "é" }, { indent: 4, sortKeys: true });
 * // '{\n    "a": "\\u00e9",\n    "b": [\n        1,\n        2.5\n    ]\n}'
 * pythonJsonDumps(parsePythonJson('{"x": 1.0}')); // '{"x": 1.0}'
 * ```
 */

/** A float whose value is integral (`1.0`, `-0.0`, `1e16`): prints as a Python float. */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/** An integer too large for a JS number, kept as its decimal digits. */
export class PyInt {
  constructor(readonly digits: string) {}
  toJSON(): number {
    return Number(this.digits);
  }
}

export interface DumpOptions {
  /** Spaces per level; undefined = one line with `", "` and `": "` separators (Python's default). */
  indent?: number;
  sortKeys?: boolean;
}

/** `json.dumps(value, indent=…, sort_keys=…)` with Python's defaults otherwise (ensure_ascii, allow_nan). */
export function pythonJsonDumps(value: unknown, options: DumpOptions = {}): string {
  return encode(value, options, 0);
}

function encode(value: unknown, options: DumpOptions, level: number): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "string") return encodeString(value);
  if (typeof value === "number") return encodeNumber(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (value instanceof PyInt) return value.digits;
  if (Array.isArray(value)) {
    return wrap(
      "[",
      "]",
      value.map((item) => encode(item, options, level + 1)),
      options,
      level,
    );
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => isEncodable(v));
    if (options.sortKeys) entries.sort(([a], [b]) => compareCodePoints(a, b));
    const items = entries.map(([k, v]) => `${encodeString(k)}: ${encode(v, options, level + 1)}`);
    return wrap("{", "}", items, options, level);
  }
  throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
}

// Like JSON.stringify, object members that have no JSON form are skipped.
function isEncodable(value: unknown): boolean {
  return value !== undefined && typeof value !== "function" && typeof value !== "symbol";
}

function wrap(open: string, close: string, items: string[], options: DumpOptions, level: number): string {
  if (items.length === 0) return open + close;
  if (options.indent === undefined) return open + items.join(", ") + close;
  const inner = "\n" + " ".repeat(options.indent * (level + 1));
  const outer = "\n" + " ".repeat(options.indent * level);
  return open + inner + items.join("," + inner) + outer + close;
}

/** Python sorts str keys by code point; JS's default sort compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** ensure_ascii: everything outside printable ASCII as `\uxxxx` (surrogate pairs for astral chars). */
function encodeString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const char = text[i] ?? "";
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (unit < 0x20 || unit > 0x7e) out += "\\u" + unit.toString(16).padStart(4, "0");
    else out += char;
  }
  return out + '"';
}

function encodeNumber(value: number): string {
  if (!Number.isInteger(value)) return pythonFloatRepr(value);
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const [mantissa = "0", exponent = "0"] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const decimalPoint = Number(exponent) + 1;
  if (decimalPoint > -4 && decimalPoint <= 16) return sign + fixedNotation(digits, decimalPoint);
  const exp = decimalPoint - 1;
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${head}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function fixedNotation(digits: string, decimalPoint: number): string {
  if (decimalPoint <= 0) return "0." + "0".repeat(-decimalPoint) + digits;
  if (decimalPoint >= digits.length) return digits + "0".repeat(decimalPoint - digits.length) + ".0";
  return digits.slice(0, decimalPoint) + "." + digits.slice(decimalPoint);
}

/** `json.loads(text)` (strict mode); throws SyntaxError where Python raises JSONDecodeError. */
export function parsePythonJson(text: string): unknown {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail("Extra data");
  return value;
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const CONSTANTS: ReadonlyArray<[string, unknown]> = [
  ["null", null],
  ["true", true],
  ["false", false],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
];

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.pos}`);
  }

  skipSpace(): void {
    while (/[ \t\n\r]/.test(this.text[this.pos] ?? "x")) this.pos++;
  }

  value(): unknown {
    const char = this.text[this.pos];
    if (char === "{") return this.object();
    if (char === "[") return this.array();
    if (char === '"') return this.string();
    for (const [word, result] of CONSTANTS) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return result;
      }
    }
    return this.number();
  }

  private number(): unknown {
    NUMBER_RE.lastIndex = this.pos;
    const match = NUMBER_RE.exec(this.text);
    if (!match) this.fail("Expecting value");
    this.pos += match[0].length;
    const value = Number(match[0]);
    const isFloat = match[1] !== undefined || match[2] !== undefined;
    if (isFloat) return Number.isInteger(value) ? new PyFloat(value) : value;
    if (Number.isSafeInteger(value)) return value;
    return new PyInt(BigInt(match[0]).toString());
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return result;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail("Expecting property name enclosed in double quotes");
      const key = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("Expecting ':' delimiter");
      this.pos++;
      this.skipSpace();
      Object.defineProperty(result, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === "}") return result;
      if (next !== ",") this.fail("Expecting ',' delimiter");
      this.skipSpace();
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      result.push(this.value());
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === "]") return result;
      if (next !== ",") this.fail("Expecting ',' delimiter");
    }
  }

  private string(): string {
    let out = "";
    this.pos++;
    for (;;) {
      const char = this.text[this.pos++];
      if (char === undefined) this.fail("Unterminated string");
      if (char === '"') return out;
      if (char.charCodeAt(0) < 0x20) this.fail("Invalid control character");
      out += char === "\\" ? this.escape() : char;
    }
  }

  private escape(): string {
    const char = this.text[this.pos++];
    const simple: Record<string, string> = {
      '"': '"',
      "\\": "\\",
      "/": "/",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
    };
    if (char !== undefined && char in simple) return simple[char] ?? "";
    if (char !== "u") this.fail("Invalid \\escape");
    const hex = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("Invalid \\uXXXX escape");
    this.pos += 4;
    return String.fromCharCode(parseInt(hex, 16));
  }
}
