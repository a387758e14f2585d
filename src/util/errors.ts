/**
 * The stable, machine-readable codes of `SregistryError`, so a library user can `switch` on
 * `err.code`. One place lists them all; each condition has one code (the near-synonyms of 0.3 were
 * merged in 0.4, see CHANGELOG.md):
 *
 * | Code | Meaning |
 * | --- | --- |
 * | `ERROR` | anything else a user can act on (the default) |
 * | `USAGE` | a command-line usage error, or an argument value the command or function refuses |
 * | `BAD_REFERENCE`, `BAD_NAME`, `BAD_DIGEST` | an image reference or catalog uri (unknown scheme included); a name; a digest that does not parse |
 * | `BAD_CLIENT` | a backend (client) name that is unknown, or known but not supported for this command |
 * | `BAD_SETTING`, `ALREADY_SET` | a setting or configuration file (registries.conf, mirrors) with a bad value; a backend setting already present |
 * | `BAD_COMPRESSION` | a `--compression` value that is not gzip/zstd/lz4 with a valid level |
 * | `BAD_RANGE` | a byte range a registry cannot serve (416), or a Range request answered at the wrong offset |
 * | `SECRETS`, `CREDENTIALS` | the secrets file is missing or unreadable; credentials are missing (e.g. no NGC token) or could not be read |
 * | `AUTH`, `FORBIDDEN`, `UNTRUSTED_REALM` | the registry refused the credentials; access (pull or push) forbidden; a token realm credentials may not go to |
 * | `NETWORK`, `HTTP`, `PLAIN_HTTP`, `RATE_LIMIT` | the connection failed or a download gave up after its retries; an unexpected HTTP status; plain HTTP where https was expected; 429 |
 * | `NOT_FOUND`, `PLATFORM` | an image, tag, row or file that does not exist (or a path that is not a regular file); no image for the wanted platform |
 * | `MANIFEST_INVALID`, `DIGEST_MISMATCH`, `SIZE_MISMATCH` | a manifest that fails validation; content whose digest or size is not the one announced |
 * | `LAYER_INVALID`, `LAYER_FOREIGN`, `LAYER_UNSUPPORTED`, `FOREIGN_URL`, `LIMIT` | a layer that fails its checks; a non-distributable layer not allowed; an unknown layer type; a refused foreign URL; a decompression bound exceeded |
 * | `INCONSISTENT` | the cache holds something unexpected |
 * | `TOOL_MISSING`, `SQUASHFS_FAILED` | no usable squashfs tool; the squashfs tool failed |
 * | `NO_SPACE`, `IO`, `NOT_WRITABLE` | a full disk; a file-system error (reading a file, writing a stream); a place that cannot be written (output, cache, sandbox, a missing destination folder) |
 * | `SYMLINK`, `UNSAFE_PATH`, `EXISTS` | a refused symlink; a path leaving its root; a target that already exists |
 * | `NOT_AN_IMAGE` | a file that is not a SIF, or a malformed one |
 * | `DATABASE`, `NO_DATABASE` | a catalog error (its folder missing included); the catalog is disabled (SREGISTRY_DISABLE) |
 * | `REMOTE_SEARCH` | a registry search that the backend cannot do |
 * | `PUSH` | an upload the registry did not complete |
 * | `LOCK_TIMEOUT` | a lock another process or host holds was not released in time |
 * | `INTERRUPTED` | the command was interrupted (Ctrl-C, abort signal) |
 */
export type ErrorCode =
  | "ERROR"
  | "USAGE"
  | "BAD_REFERENCE"
  | "BAD_NAME"
  | "BAD_DIGEST"
  | "BAD_CLIENT"
  | "BAD_SETTING"
  | "ALREADY_SET"
  | "BAD_COMPRESSION"
  | "BAD_RANGE"
  | "SECRETS"
  | "CREDENTIALS"
  | "AUTH"
  | "FORBIDDEN"
  | "UNTRUSTED_REALM"
  | "NETWORK"
  | "HTTP"
  | "PLAIN_HTTP"
  | "RATE_LIMIT"
  | "NOT_FOUND"
  | "PLATFORM"
  | "MANIFEST_INVALID"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "LAYER_INVALID"
  | "LAYER_FOREIGN"
  | "LAYER_UNSUPPORTED"
  | "FOREIGN_URL"
  | "LIMIT"
  | "INCONSISTENT"
  | "TOOL_MISSING"
  | "SQUASHFS_FAILED"
  | "NO_SPACE"
  | "IO"
  | "NOT_WRITABLE"
  | "SYMLINK"
  | "UNSAFE_PATH"
  | "EXISTS"
  | "NOT_AN_IMAGE"
  | "DATABASE"
  | "NO_DATABASE"
  | "REMOTE_SEARCH"
  | "PUSH"
  | "LOCK_TIMEOUT"
  | "INTERRUPTED";

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
  /** A stable machine-readable code (see `ErrorCode`), e.g. `NOT_FOUND`, `AUTH`, `DIGEST_MISMATCH`. */
  readonly code: ErrorCode;

  constructor(message: string, options: { code?: ErrorCode; exitCode?: number; cause?: unknown } = {}) {
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
