/**
 * Parsing of `WWW-Authenticate` headers (RFC 7235) into challenges.
 *
 * Tolerant where registries differ: parameters in any order, quoted or bare values, commas and
 * escaped quotes inside quoted values, optional `service` and `scope` (nvcr.io sends
 * `Bearer realm="https://nvcr.io/proxy_auth",scope="repository:nvidia/x:pull"` with no service),
 * several challenges in one header or in several headers. Scheme and parameter names are lower-cased.
 *
 * @example
 * ```ts
 * parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"');
 * // [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" } }]
 * ```
 */

export interface Challenge {
  /** Lower-cased scheme: "bearer", "basic", ... */
  scheme: string;
  /** Parameters by lower-cased name. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;

/** Parses one or more header values into every challenge they contain, in order. */
export function parseChallenges(value: string | string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => new Parser(v).challenges());
}

/** The first challenge with the given scheme, if any. */
export function findChallenge(challenges: Challenge[], scheme: "bearer" | "basic"): Challenge | undefined {
  return challenges.find((c) => c.scheme === scheme);
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  challenges(): Challenge[] {
    const out: Challenge[] = [];
    for (;;) {
      this.skipSeparators();
      const scheme = this.match(TOKEN);
      if (!scheme) return out;
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      this.readParams(challenge);
    }
  }

  private readParams(challenge: Challenge): void {
    this.skipSpaces();
    if (this.readToken68(challenge)) return;
    for (;;) {
      this.skipSpaces();
      const start = this.pos;
      const name = this.match(TOKEN);
      if (!name) return;
      this.skipSpaces();
      if (this.text[this.pos] !== "=") {
        this.pos = start; // a bare token: the next challenge's scheme
        return;
      }
      this.pos++;
      this.skipSpaces();
      challenge.params[name.toLowerCase()] =
        this.text[this.pos] === '"' ? this.quoted() : (this.match(TOKEN) ?? "");
      this.skipSpaces();
      if (this.text[this.pos] !== ",") return;
      this.pos++;
    }
  }

  /** `Basic dXNlcjpwYXNz==`: a token68 credential form instead of parameters (kept as `token68`). */
  private readToken68(challenge: Challenge): boolean {
    const start = this.pos;
    const value = this.match(TOKEN68);
    if (value && /^\s*(,|$)/.test(this.text.slice(this.pos))) {
      challenge.params.token68 = value;
      return true;
    }
    this.pos = start;
    return false;
  }

  private quoted(): string {
    let out = "";
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++]!;
      if (ch === '"') return out;
      if (ch === "\\" && this.pos < this.text.length) out += this.text[this.pos++];
      else out += ch;
    }
    return out; // unterminated: keep what we have
  }

  private match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos = re.lastIndex;
    return m[0];
  }

  private skipSpaces(): void {
    while (this.text[this.pos] === " " || this.text[this.pos] === "\t") this.pos++;
  }

  private skipSeparators(): void {
    while (/[\s,]/.test(this.text[this.pos] ?? "")) this.pos++;
  }
}
