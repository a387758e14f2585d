/**
 * The network timeouts a user can set, in seconds (a decimal such as 0.5 is allowed, > 0):
 *
 * - SREGISTRY_MIRROR_TIMEOUT, default 4: how long a mirror may take to answer with headers before
 *   it is abandoned for the next source (a mirror is a shortcut; waiting on a dead one costs more
 *   than fetching from the registry).
 * - SREGISTRY_STALL_TIMEOUT, default 30: how long a connection to a registry may take to open, and
 *   how long it may stay silent (waiting for headers or mid-body), before the attempt fails as
 *   stalled and is retried ("no response from <host> within 30 s (4 attempts)").
 *
 * @example
 * ```ts
 * timeoutSettings({ SREGISTRY_MIRROR_TIMEOUT: "0.5" });
 * // { mirrorTimeoutMs: 500, stallTimeoutMs: 30000 }
 * ```
 */
import { SregistryError } from "../util/errors.js";
import type { TimeoutSettings } from "./types.js";

export const DEFAULT_MIRROR_TIMEOUT_S = 4;
export const DEFAULT_STALL_TIMEOUT_S = 30;
/** A day: larger values are almost surely a unit mistake (milliseconds given as seconds). */
const MAX_SECONDS = 86_400;

/** Reads both settings from the environment; throws `BAD_SETTING` for a malformed value. */
export function timeoutSettings(env: NodeJS.ProcessEnv): TimeoutSettings {
  return {
    mirrorTimeoutMs: parseSeconds(
      "SREGISTRY_MIRROR_TIMEOUT",
      env.SREGISTRY_MIRROR_TIMEOUT,
      DEFAULT_MIRROR_TIMEOUT_S,
    ),
    stallTimeoutMs: parseSeconds(
      "SREGISTRY_STALL_TIMEOUT",
      env.SREGISTRY_STALL_TIMEOUT,
      DEFAULT_STALL_TIMEOUT_S,
    ),
  };
}

/** "0.2" → 200 (ms); unset or empty → the default; anything else but a number of seconds > 0 throws. */
export function parseSeconds(name: string, value: string | undefined, defaultSeconds: number): number {
  const text = value?.trim();
  if (!text) return defaultSeconds * 1000;
  const seconds = /^(?:\d{1,6}(?:\.\d{1,3})?|\.\d{1,3})$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new SregistryError(
      `${name} must be a number of seconds above 0 and at most ${MAX_SECONDS} (such as 0.5 or 30), not ${JSON.stringify(text.slice(0, 40))}`,
      { code: "BAD_SETTING" },
    );
  }
  return Math.round(seconds * 1000);
}
