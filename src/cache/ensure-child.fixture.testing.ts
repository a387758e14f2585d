/**
 * Test fixture run as a separate process: ensures one blob from a URL into a store and prints the
 * result as JSON (or `{"error": ..., "code": ...}`), so tests can race processes and kill them.
 *
 * @example
 * ```sh
 * node --import tsx src/cache/ensure-child.fixture.testing.ts <root> <url> <digest> <size>
 * ```
 */
import type { Digest } from "../oci/digest.js";
import { BlobStore } from "./blob-store.js";
import { httpOpener } from "./blob-server.testing.js";

const [root, url, digest, size] = process.argv.slice(2);
if (!root || !url || !digest || !size) {
  console.error("usage: ensure-child <root> <url> <digest> <size>");
  process.exit(2);
}
try {
  const result = await new BlobStore(root).ensure(
    { digest: digest as Digest, size: Number(size) },
    httpOpener(url),
  );
  console.log(JSON.stringify(result));
} catch (err) {
  const e = err as { message?: string; code?: string };
  console.log(JSON.stringify({ error: e.message, code: e.code }));
  process.exitCode = 1;
}
