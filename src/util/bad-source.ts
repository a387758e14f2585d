/**
 * The error a response body fails with when the host that served it is set aside: it sent bytes
 * that are not the content asked for (a digest that does not match, a body cut short) or stalled
 * mid-body. Unlike a broken connection, which a downloader resumes from where it stopped, this
 * says "nothing received from that source is to be trusted": the consumer discards every byte it
 * got and asks again from the start, and the next request goes to another source (the one that
 * raised it has already been skipped for that content). The registry's mirror layer raises it
 * (registry/mirror-verify.ts); the blob cache's downloader honours it (cache/download.ts).
 *
 * A body from a source that can be set aside also carries a `REFUSE_SOURCE` method, for what only
 * the consumer can see (a blob longer than its descriptor says): `refuseSource(body, why)` sets
 * the source aside and returns the BadSourceError to act on, or undefined for any other body.
 *
 * @example
 * ```ts
 * try { await copy(body); } catch (err) { if (isBadSource(err)) { truncate(); return retryFromZero(); } throw err; }
 * if (tooLong) throw refuseSource(body, "a body longer than the blob") ?? new SregistryError("...");
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

/** The method a body carries when its source can be set aside by its consumer. */
export const REFUSE_SOURCE: unique symbol = Symbol("sregistry.refuseSource");

/** A body whose source the consumer may set aside. */
export interface RefusableBody {
  [REFUSE_SOURCE]: (why: string) => BadSourceError;
}

/** Sets the body's source aside and returns the error to act on; undefined if it cannot be. */
export function refuseSource(body: object, why: string): BadSourceError | undefined {
  const refuse = (body as Partial<RefusableBody>)[REFUSE_SOURCE];
  return typeof refuse === "function" ? refuse(why) : undefined;
}
