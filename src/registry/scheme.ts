/**
 * The registry's base URL: `https://<host>`, or `http://<host>` only when configured insecure
 * (SREGISTRY_*_NOHTTPS). There is deliberately no "localhost is insecure" guess: tests and users
 * say so explicitly. Docker Hub's names (`docker.io`, `index.docker.io`) map to the API host
 * `registry-1.docker.io`, as the Docker CLI does.
 *
 * @example
 * ```ts
 * registryBaseUrl("nvcr.io");                          // "https://nvcr.io"
 * registryBaseUrl("127.0.0.1:5000", { insecure: true }); // "http://127.0.0.1:5000"
 * ```
 */
import { isDockerHub } from "../reference/grammar.js";
import { SregistryError } from "../util/errors.js";

/**
 * Normalises a configured registry (`nvcr.io`, `https://nvcr.io/`, `127.0.0.1:5000`) to `host[:port]`.
 * A scheme in the configuration is accepted and dropped; insecurity is a separate setting.
 */
export function registryHost(registry: string): string {
  const text = registry
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "");
  if (text === "" || !/^[A-Za-z0-9.\-_[\]:]+$/.test(text)) {
    throw new SregistryError(`invalid registry host "${registry}"`, { code: "BAD_SETTING" });
  }
  return text;
}

/** The API host actually contacted (Docker Hub aliases become `registry-1.docker.io`). */
export function apiHost(registry: string): string {
  return isDockerHub(registry) ? "registry-1.docker.io" : registryHost(registry);
}

export function registryBaseUrl(registry: string, options: { insecure?: boolean } = {}): string {
  return `${options.insecure ? "http" : "https"}://${apiHost(registry)}`;
}
