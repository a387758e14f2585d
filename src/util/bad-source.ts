/**
 * The error a response body fails with when the host that served it is set aside: it sent bytes
 * that are not the content asked for (a digest that does not match, a body cut short) or stalled
 * mid-body. Unlike a broken connection, which a downloader resumes from where it stopped, this
 * says "nothing received from that source is to be trusted": the consumer discards every byte it
 * got and asks again from the start, and the next request goes to another source (the one that
 * raised it has already been skipped for that content). The registry's mirror layer raises it
 * (registry/mirror-verify.ts); the blob cache's downloader honours it (cache/download.ts).
 *
 * @example
 * ```ts
 * try { await copy(body); } catch (err) { if (isBadSource(err)) { truncate(); return retryFromZero(); } throw err; }
 * ```
 */

export class BadSourceError extends Error {
  /** `host[:port]` that served the bad body. */
  readonly host: string;

  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BadSourceError";
    this.host = host;
  }
}

/** True for a BadSourceError (also across module copies, by name). */
export function isBadSource(err: unknown): err is BadSourceError {
  return err instanceof BadSourceError || (err instanceof Error && err.name === "BadSourceError");
}
