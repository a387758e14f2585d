/**
 * JSON text the way Go's `encoding/json` writes it, for files Apptainer writes with Go.
 *
 * Differences from `JSON.stringify` that matter for byte-compatible output: map keys are sorted
 * (pass maps as `Map` — plain objects keep their insertion order, like Go structs); `<`, `>`, `&`,
 * U+2028 and U+2029 are written as `\u003c`… escapes; `MarshalIndent` puts `{}`/`[]` on one line
 * when empty. Only strings, numbers, booleans, null, arrays, plain objects and `Map`s are handled.
 *
 * @example
 * ```ts
 * goJson(new Map([["b", "1"], ["a", "<x>"]]), "\t");
 * // {\n\t"a": "\u003cx\u003e",\n\t"b": "1"\n}
 * ```
 */

export type GoJsonValue =
  | string
  | number
  | boolean
  | null
  | GoJsonValue[]
  | Map<string, GoJsonValue>
  | { [key: string]: GoJsonValue };

/** Serialises `value`; `indent` "" gives compact output (json.Marshal), else json.MarshalIndent. */
export function goJson(value: GoJsonValue, indent = ""): string {
  return encode(value, indent, "");
}

function encode(value: GoJsonValue, indent: string, prefix: string): string {
  if (value === null || typeof value !== "object") return encodeScalar(value);
  if (Array.isArray(value))
    return encodeMembers(
      value.map((v) => ["", v]),
      false,
      indent,
      prefix,
      "[",
      "]",
    );
  const entries =
    value instanceof Map
      ? [...value.entries()].sort(([a], [b]) => compareBytes(a, b))
      : Object.entries(value);
  return encodeMembers(entries, true, indent, prefix, "{", "}");
}

function encodeMembers(
  entries: [string, GoJsonValue][],
  named: boolean,
  indent: string,
  prefix: string,
  open: string,
  close: string,
): string {
  if (entries.length === 0) return open + close;
  const inner = prefix + indent;
  const separator = indent === "" ? "" : " ";
  const parts = entries.map(
    ([key, v]) => (named ? `${goString(key)}:${separator}` : "") + encode(v, indent, inner),
  );
  if (indent === "") return open + parts.join(",") + close;
  return `${open}\n${inner}${parts.join(`,\n${inner}`)}\n${prefix}${close}`;
}

function encodeScalar(value: string | number | boolean | null): string {
  if (typeof value === "string") return goString(value);
  return JSON.stringify(value);
}

/** A JSON string literal with Go's HTML-safe escapes. */
export function goString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => {
    return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
  });
}

/** Go compares strings by bytes (UTF-8), which differs from UTF-16 order above U+FFFF. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
