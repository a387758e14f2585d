/**
 * The one error type the CLI knows how to print: a single line, no stack trace, an exit code.
 *
 * Every layer throws `SregistryError` (or a subclass) for conditions a user can act on; anything
 * else is a bug and is printed with its stack only under `--debug`.
 *
 * @example
 * ```ts
 * throw new SregistryError("image nvidia/caffe2:17.10 was not found in the database");
 * ```
 */
export class SregistryError extends Error {
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number;
  /** A stable machine-readable code, e.g. `NOT_FOUND`, `AUTH`, `DIGEST_MISMATCH`. */
  readonly code: string;

  constructor(message: string, options: { code?: string; exitCode?: number; cause?: unknown } = {}) {
    super(oneLine(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SregistryError";
    this.code = options.code ?? "ERROR";
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Collapses whitespace so an error message is always printed as exactly one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** True when `err` is a Node system error with the given code (ENOENT, EEXIST, ...). */
export function isErrnoCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as NodeJS.ErrnoException).code === code;
}
