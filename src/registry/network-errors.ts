/**
 * Network failures in words a user can act on, instead of Node's or OpenSSL's raw text.
 *
 * - A timeout of our own transport (http.ts) carries `timeout: { phase, ms }`: "no response from
 *   <host> within 30 s" (the registry accepted the connection and then said nothing) or "could
 *   not connect to <host> within 30 s" — not a vague "unreachable".
 * - An https request answered by a plain-http server fails in OpenSSL with `EPROTO … wrong version
 *   number` (the HTTP status line is read as a TLS record). That becomes one line saying the
 *   registry speaks plain HTTP and how to allow it (`withPlainHttpDetection`).
 * - A certificate that fails verification (unknown CA, wrong name, expired) becomes one line naming
 *   the registry and the two ways out: trust the CA (`NODE_EXTRA_CA_CERTS`, read by Node at start,
 *   https://nodejs.org/api/cli.html#node_extra_ca_certsfile) or skip verification
 *   (`SREGISTRY_HTTPS_NOVERIFY`) — instead of OpenSSL's bare "unable to verify the first certificate".
 *
 * @example
 * ```ts
 * const transport = withPlainHttpDetection(http, "set SREGISTRY_NVIDIA_NOHTTPS=yes or use --insecure");
 * describeNetworkFailure("nvcr.io", err); // "no response from nvcr.io within 30 s"
 * describeNetworkFailure("nvcr.io", refused); // "registry nvcr.io unreachable: connect ECONNREFUSED …"
 * const verified = withCertificateDetection(transport); // NETWORK: "the TLS certificate of … could not be verified …"
 * ```
 */
import { SregistryError } from "../util/errors.js";
import type { Transport } from "./http.js";

/** What a timeout of our transport records on its error. */
export interface TimeoutInfo {
  phase: "connect" | "response";
  ms: number;
}

/** A network error with an errno-style code (so retry.ts recognises it) and, for timeouts, what timed out. */
export function networkError(message: string, code: string, timeout?: TimeoutInfo): Error {
  return Object.assign(new Error(message), timeout ? { code, timeout } : { code });
}

/** One phrase for a failed exchange with `host`: what happened, without OpenSSL codes. */
export function describeNetworkFailure(host: string, err: Error): string {
  const timeout = (err as Error & { timeout?: TimeoutInfo }).timeout;
  if (timeout) {
    const seconds = Math.round(timeout.ms / 100) / 10;
    return timeout.phase === "connect"
      ? `could not connect to ${host} within ${seconds} s`
      : `no response from ${host} within ${seconds} s`;
  }
  return `registry ${host} unreachable: ${err.message}`;
}

/** True for the TLS error an https client gets from a plain-http server. */
export function isPlainHttpAnswer(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (
    (code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER") &&
    /wrong version number/i.test(err.message)
  );
}

/** Turns the plain-http TLS failure of an https request into one PLAIN_HTTP error with `hint`. */
export function withPlainHttpDetection(inner: Transport, hint: string): Transport {
  return async (req) => {
    try {
      return await inner(req);
    } catch (err) {
      if (!isPlainHttpAnswer(err)) throw err;
      const host = new URL(req.url).host;
      throw new SregistryError(`the registry ${host} answered plain HTTP to an https request; ${hint}`, {
        code: "PLAIN_HTTP",
        cause: err,
      });
    }
  };
}

/**
 * Codes Node gives a failed certificate check: OpenSSL's X509 verify results and Node's own name
 * check (https://nodejs.org/api/tls.html#x509-certificate-error-codes).
 */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** True for an error of a failed TLS certificate verification. */
export function isCertificateFailure(err: unknown): boolean {
  return err instanceof Error && CERTIFICATE_CODES.has((err as NodeJS.ErrnoException).code ?? "");
}

/**
 * Turns a failed certificate verification into one NETWORK error that names the registry and says
 * what to do. The reason is Node's fixed text for the code, except for a name mismatch, whose text
 * quotes the certificate (network data): that one is said in our words.
 */
export function withCertificateDetection(inner: Transport): Transport {
  return async (req) => {
    try {
      return await inner(req);
    } catch (err) {
      if (!isCertificateFailure(err)) throw err;
      const url = new URL(req.url);
      const reason =
        (err as NodeJS.ErrnoException).code === "ERR_TLS_CERT_ALTNAME_INVALID"
          ? `it is not issued for ${url.hostname}`
          : (err as Error).message;
      throw new SregistryError(
        `the TLS certificate of ${url.host} could not be verified (${reason}); ` +
          "trust its CA with NODE_EXTRA_CA_CERTS=<PEM file>, or set SREGISTRY_HTTPS_NOVERIFY=1 to skip verification",
        { code: "NETWORK", cause: err },
      );
    }
  };
}
