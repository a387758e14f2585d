/**
 * Retry with the program's one backoff policy (`util/backoff.ts`: exponential, full jitter, capped),
 * as a transport wrapper.
 *
 * Retried: network errors (ECONNRESET, ECONNREFUSED, ETIMEDOUT, EPIPE, EAI_AGAIN, "socket hang
 * up", ...), 408, 429 (honouring `Retry-After` in seconds or as an HTTP date, capped) and 5xx except
 * 501/505. Only the exchange up to the response headers is retried; a body that breaks later is the
 * caller's business (the blob cache resumes with Range). When every attempt failed on the network,
 * the error is a `SregistryError` with code NETWORK naming the host and what happened
 * (network-errors.ts: "no response from <host> within 30 s", "registry <host> unreachable: …");
 * when the last attempt got a retryable status, that response is returned for the caller to map.
 *
 * @example
 * ```ts
 * const transport = withRetry(createHttpTransport(), { onRetry: ({ reason }) => log.debug(reason) });
 * ```
 */
import { BACKOFF, backoffDelay, type BackoffPolicy } from "../util/backoff.js";
import { SregistryError } from "../util/errors.js";
import { discardBody } from "./body.js";
import { header, type HttpResponse, type Transport } from "./http.js";
import { describeNetworkFailure } from "./network-errors.js";

/** `attempts`, `baseDelayMs`, `maxDelayMs`: the backoff policy, `BACKOFF` unless a test changes it. */
export interface RetryOptions extends BackoffPolicy {
  /** Cap for a server's Retry-After hint; default 30 s. */
  maxRetryAfterMs: number;
  /** Injectable for tests. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests: returns [0, 1). */
  random: () => number;
  /** Called before each retry (logging). */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; url: string }) => void;
}

export const defaultRetryOptions: RetryOptions = {
  ...BACKOFF,
  maxRetryAfterMs: 30_000,
  sleep: abortableSleep,
  random: Math.random,
};

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
]);

/** True for transient network failures worth another attempt. */
export function isRetryableError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof SregistryError || err.name === "AbortError") return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && RETRYABLE_CODES.has(code)) || /socket hang up/i.test(err.message);
}

/** True for statuses that mean "try again later". */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Parses Retry-After (seconds or HTTP date) into milliseconds from `now`, or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function withRetry(inner: Transport, options: Partial<RetryOptions> = {}): Transport {
  const opts: RetryOptions = { ...defaultRetryOptions, ...options };
  return async (req) => {
    const host = new URL(req.url).host;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= opts.attempts;
      let res: HttpResponse;
      try {
        res = await inner(req);
      } catch (err) {
        if (!isRetryableError(err) || req.signal?.aborted) throw err;
        if (last) throw unreachable(host, err as Error, attempt);
        await pause(
          opts,
          attempt,
          backoffDelay(attempt, opts.random, opts),
          (err as Error).message,
          String(req.url),
          req.signal,
        );
        continue;
      }
      if (last || !isRetryableStatus(res.status) || req.signal?.aborted) return res;
      const hinted =
        res.status === 429 || res.status === 503 ? parseRetryAfter(header(res, "retry-after")) : undefined;
      discardBody(res.body);
      const delay =
        hinted === undefined
          ? backoffDelay(attempt, opts.random, opts)
          : Math.min(hinted, opts.maxRetryAfterMs);
      await pause(opts, attempt, delay, `HTTP ${res.status}`, String(req.url), req.signal);
    }
  };
}

async function pause(
  opts: RetryOptions,
  attempt: number,
  delayMs: number,
  reason: string,
  url: string,
  signal?: AbortSignal,
): Promise<void> {
  opts.onRetry?.({ attempt, delayMs, reason, url });
  await opts.sleep(delayMs, signal);
}

function unreachable(host: string, err: Error, attempts: number): SregistryError {
  const plural = attempts === 1 ? "attempt" : "attempts";
  return new SregistryError(`${describeNetworkFailure(host, err)} (${attempts} ${plural})`, {
    code: "NETWORK",
    cause: err,
  });
}

/** setTimeout as a promise that rejects when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
