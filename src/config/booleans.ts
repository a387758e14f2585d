/**
 * Boolean environment variables, in the two flavours the original tool had.
 *
 * `parseBoolean` is the original's `convert2boolean`: yes/true/t/1/y (any case) mean true, and
 * everything else that is set means false. Unset and empty values give `undefined` so callers can
 * fall back to the secrets file or a default (`VAR= cmd` is the shell idiom for "unset").
 *
 * `parsePresenceFlag` is for the variables the original only tested for *presence*
 * (`SREGISTRY_DOCKERHUB_NOHTTPS`, `SREGISTRY_NVIDIA_NOHTTPS`, `SREGISTRY_DOCKER_CMD`): there any
 * value, even `false`, switched the feature on. Deviation, on purpose: an explicit false word
 * (false/no/f/0/n/off) now means false, because `SREGISTRY_DOCKER_CMD=false` turning the feature on
 * surprised users; any other non-empty value still means true, so existing setups such as
 * `SREGISTRY_DOCKER_CMD=please` keep working.
 *
 * @example
 * ```ts
 * parseBoolean("Yes");          // true
 * parseBoolean("maybe");        // false
 * parseBoolean(undefined);      // undefined
 * parsePresenceFlag("false");   // false
 * parsePresenceFlag("enabled"); // true
 * ```
 */

const TRUE_WORDS = new Set(["yes", "true", "t", "1", "y"]);
const FALSE_WORDS = new Set(["no", "false", "f", "0", "n", "off"]);

/** Normalises an environment value; empty or blank counts as unset. */
function normalise(value: string | undefined): string | undefined {
  const text = value?.trim().toLowerCase();
  return text ? text : undefined;
}

/** yes/true/t/1/y → true; any other set value → false; unset or empty → undefined. */
export function parseBoolean(value: string | undefined): boolean | undefined {
  const text = normalise(value);
  if (text === undefined) return undefined;
  return TRUE_WORDS.has(text);
}

/** An explicit false word → false; any other set value → true; unset or empty → undefined. */
export function parsePresenceFlag(value: string | undefined): boolean | undefined {
  const text = normalise(value);
  if (text === undefined) return undefined;
  return !FALSE_WORDS.has(text);
}
