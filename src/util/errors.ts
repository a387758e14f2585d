/**
 * The stable, machine-readable codes of `SregistryError`, so a library user can `switch` on
 * `err.code`. One place lists them all:
 *
 * | Code | Meaning |
 * | --- | --- |
 * | `ERROR` | anything else a user can act on (the default) |
 * | `USAGE`, `INVALID_ARGUMENT` | a command-line usage error; an argument value the command refuses |
 * | `BAD_REFERENCE`, `BAD_URI`, `BAD_NAME`, `BAD_DIGEST` | an image reference, catalog uri, name or digest that does not parse |
 * | `BAD_CLIENT`, `UNSUPPORTED_CLIENT` | a backend (client) name that is unknown; one known but not supported here |
 * | `BAD_SETTING`, `ALREADY_SET`, `CONFIG` | a setting with a bad value; a backend setting already present; unusable configuration |
 * | `BAD_COMPRESSION` | a `--compression` value that is not gzip/zstd/lz4 with a valid level |
 * | `BAD_RANGE`, `RANGE` | a registry answered a Range request wrongly; a requested byte range that cannot be served |
 * | `SECRETS`, `NO_SECRETS`, `CREDENTIALS` | the secrets file is unreadable; it is missing; credentials could not be read |
 * | `AUTH`, `FORBIDDEN`, `NO_TOKEN`, `UNTRUSTED_REALM` | the registry refused the credentials; access forbidden; no token; a token realm credentials may not go to |
 * | `NETWORK`, `HTTP`, `PLAIN_HTTP`, `RATE_LIMIT` | the connection failed; an unexpected HTTP status; plain HTTP where https was expected; 429 |
 * | `NOT_FOUND`, `PLATFORM` | an image, tag or row that does not exist; no image for the wanted platform |
 * | `MANIFEST_INVALID`, `DIGEST_MISMATCH`, `SIZE_MISMATCH` | a manifest that fails validation; content whose digest or size is not the one announced |
 * | `LAYER_INVALID`, `LAYER_FOREIGN`, `LAYER_UNSUPPORTED`, `FOREIGN_URL`, `LIMIT` | a layer that fails its checks; a non-distributable layer not allowed; an unknown layer type; a refused foreign URL; a decompression bound exceeded |
 * | `DOWNLOAD_FAILED`, `CACHE_WRITE`, `INCONSISTENT` | a blob that could not be fetched; the blob cache cannot be written; the cache holds something unexpected |
 * | `TOOL_MISSING`, `SQUASHFS_FAILED` | no usable squashfs tool; the squashfs tool failed |
 * | `NO_SPACE`, `IO`, `NOT_WRITABLE`, `OUTPUT`, `SANDBOX_WRITE` | a full disk; a file-system error; a place the command may not write; a bad output path; a sandbox that cannot be written |
 * | `NO_FILE`, `NOT_A_FILE`, `NO_DIRECTORY`, `SYMLINK`, `UNSAFE_PATH`, `EXISTS` | a missing file; a path that is not a regular file; a missing directory; a refused symlink; a path leaving its root; a target that already exists |
 * | `BAD_IMAGE`, `NOT_AN_IMAGE` | a SIF that is malformed; a file that is not a SIF |
 * | `DATABASE`, `NO_DATABASE`, `NO_DATABASE_DIR` | a catalog error; the catalog is disabled (SREGISTRY_DISABLE); its folder cannot be made |
 * | `REMOTE_SEARCH` | a registry search that the backend cannot do |
 * | `PUSH`, `PUSH_DENIED` | an upload the registry did not complete; a registry that refused the push (no push rights) |
 * | `LOCK_TIMEOUT` | a lock another process or host holds was not released in time |
 * | `INTERRUPTED` | the command was interrupted (Ctrl-C, abort signal) |
 */
export type ErrorCode =
  | "ERROR"
  | "USAGE"
  | "INVALID_ARGUMENT"
  | "BAD_REFERENCE"
  | "BAD_URI"
  | "BAD_NAME"
  | "BAD_DIGEST"
  | "BAD_CLIENT"
  | "UNSUPPORTED_CLIENT"
  | "BAD_SETTING"
  | "ALREADY_SET"
  | "CONFIG"
  | "BAD_COMPRESSION"
  | "BAD_RANGE"
  | "RANGE"
  | "SECRETS"
  | "NO_SECRETS"
  | "CREDENTIALS"
  | "AUTH"
  | "FORBIDDEN"
  | "NO_TOKEN"
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
  | "DOWNLOAD_FAILED"
  | "CACHE_WRITE"
  | "INCONSISTENT"
  | "TOOL_MISSING"
  | "SQUASHFS_FAILED"
  | "NO_SPACE"
  | "IO"
  | "NOT_WRITABLE"
  | "OUTPUT"
  | "SANDBOX_WRITE"
  | "NO_FILE"
  | "NOT_A_FILE"
  | "NO_DIRECTORY"
  | "SYMLINK"
  | "UNSAFE_PATH"
  | "EXISTS"
  | "BAD_IMAGE"
  | "NOT_AN_IMAGE"
  | "DATABASE"
  | "NO_DATABASE"
  | "NO_DATABASE_DIR"
  | "REMOTE_SEARCH"
  | "PUSH"
  | "PUSH_DENIED"
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
