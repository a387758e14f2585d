/**
 * The image config through the blob cache: the first puller fetches it (under the blob's lock, like
 * a layer) and every other process, on any host sharing the cache, reads it from there, so a
 * config is downloaded once however many nodes pull the image. The registry client checks size and
 * digest of what this returns.
 *
 * @example
 * ```ts
 * const image = await registry.resolveImage(repo, tag, platform, { readConfig: cachedConfig(store) });
 * ```
 */
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import type { BlobStore } from "../cache/blob-store.js";
import type { ConfigReader } from "../registry/client.js";

export function cachedConfig(store: BlobStore, signal?: AbortSignal): ConfigReader {
  return async (descriptor, fetch) => {
    const { path } = await store.ensure(
      { digest: descriptor.digest, size: descriptor.size },
      async () => ({ body: Readable.from([await fetch()]), offset: 0 }),
      signal ? { signal } : {},
    );
    return readFile(path);
  };
}
