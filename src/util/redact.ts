/**
 * Secret scrubbing for anything that may reach a terminal, a log or the catalog.
 *
 * Registers secret values (API keys, passwords, bearer tokens) process-wide; `redact()` replaces
 * every registered value, and every `Authorization` header value, with `***`.
 *
 * @example
 * ```ts
 * registerSecret(process.env.SREGISTRY_NVIDIA_TOKEN);
 * console.error(redact(`token request failed for ${url}`));
 * ```
 */
const secrets = new Set<string>();

/** Remembers a secret so that `redact` hides it. Empty and very short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Returns `text` with every registered secret and credential-looking header value masked. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  out = out.replace(
    /((?:authorization|proxy-authorization)\s*[:=]\s*)(basic|bearer)?\s*[^\s,;"']+/gi,
    "$1$2 ***",
  );
  return out;
}
