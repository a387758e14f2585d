/**
 * The one backoff policy: how often and how long to wait before trying a network operation again.
 * Used by the registry transport's retries (`registry/retry.ts`) and by the blob cache's resumed
 * downloads (`cache/download.ts`).
 *
 * Exponential with full jitter, capped: the n-th pause is drawn uniformly from
 * `[0, min(maxDelayMs, baseDelayMs × 2^(n−1)))`. Marc Brooker, "Exponential Backoff And Jitter"
 * (AWS Architecture Blog, 2015, https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/)
 * compares the variants: with many clients competing for one overloaded server, full jitter needs
 * the fewest calls and finishes about as soon as the others. That is our case: a Slurm job array
 * starts the same pull on hundreds of nodes at once against one registry or mirror.
 *
 * The numbers: 4 attempts (the first and 3 retries) with a 500 ms base give pauses of at most
 * 0.5, 1 and 2 s — 1.75 s expected, 3.5 s at worst — so a registry restarting or shedding load
 * (5xx, 429 without Retry-After, reset connections) gets a few seconds to come back, while a dead
 * one fails the command within seconds rather than minutes. The 10 s cap bounds a single pause
 * when a caller asks for more attempts (the ceiling would pass 10 s at the sixth). A download
 * counts only attempts in a row that bring no new bytes, so a link that keeps breaking but
 * advances is never given up on.
 *
 * @example
 * ```ts
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     return await fetchIt();
 *   } catch (err) {
 *     if (attempt >= BACKOFF.attempts) throw err;
 *     await sleep(backoffDelay(attempt));
 *   }
 * }
 * ```
 */

export interface BackoffPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Ceiling of the first pause; it doubles with each attempt. */
  baseDelayMs: number;
  /** Ceiling of any single pause. */
  maxDelayMs: number;
}

/** The policy every retry of the program uses (see the module comment for the numbers). */
export const BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
});

/**
 * The pause after failed attempt number `attempt` (1-based), in whole milliseconds.
 * `random` returns [0, 1) (tests inject a fixed value).
 *
 * @example
 * ```ts
 * backoffDelay(3, () => 0.5); // 1000: half of the third ceiling, 2000 ms
 * ```
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  policy: Pick<BackoffPolicy, "baseDelayMs" | "maxDelayMs"> = BACKOFF,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
