/**
 * `add`: puts a local image file into storage under a catalog uri and records it.
 *
 * The version is the sha256 of the file unless the uri names one (`…@<version>`); the file is
 * moved (or copied with `copy`) to `<storage>/<collection>/<name>/<tag>@<version>.sif`. The row is
 * created, or updated when one with the same collection/name/tag/version exists (its url kept,
 * metrics merged). The `client` column is the current client: the uri's `scheme://`, else
 * SREGISTRY_CLIENT, else the secrets file, else `hub` — as the original.
 *
 * Nothing is half-done: the file is first staged next to storage, then renamed into place and
 * recorded in one catalog transaction; if the catalog write fails the file goes back where it was
 * (a copy is deleted) and a file it would have replaced is restored (see storage-ops.ts).
 *
 * @example
 * ```ts
 * const result = await add(ctx, "./hello.sif", { name: "vsoch/hello-world:latest" });
 * result.created; // true
 * result.uri;     // "vsoch/hello-world:latest@<sha256 of hello.sif>"
 * result.path;    // "<storage>/vsoch/hello-world/latest@<sha256>.sif"
 * ```
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { ContainerRow } from "../catalog/catalog.js";
import { sha256File, storagePath } from "../catalog/storage.js";
import { resolveClientName } from "../config/backend.js";
import { formatCatalogUri, parseCatalogUri, type CatalogUri } from "../reference/catalog-uri.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import type { Context } from "./context.js";
import {
  finishFileSteps,
  renameIntoPlace,
  setAside,
  stageFile,
  unstageFile,
  withFileSteps,
} from "./storage-ops.js";

export interface AddOptions {
  /** Catalog uri, `[scheme://]collection/name[:tag][@version]` (the original's `--name`). */
  name?: string;
  /** Copy the file instead of moving it. */
  copy?: boolean;
}

export interface AddResult {
  row: ContainerRow;
  /** False when an existing row (same collection/name/tag/version) was updated. */
  created: boolean;
  /** `collection/name:tag@version` */
  uri: string;
  /** The file's place in storage. */
  path: string;
  version: string;
  client: string;
}

export async function add(ctx: Context, file: string, options: AddOptions = {}): Promise<AddResult> {
  if (!options.name) {
    throw new SregistryError("You must provide an image uri --name <collection>/<namespace>", {
      code: "USAGE",
    });
  }
  const client = resolveClientName(options.name, ctx.settings).client;
  const names = parseCatalogUri(options.name);
  const source = checkedSource(file);
  const catalog = ctx.catalog();
  const version = names.version ?? (await sha256File(source));
  const uri: CatalogUri & { version: string } = { ...names, version };
  const path = storagePath(ctx.settings.storageDir, uri);
  const copy = options.copy ?? false;

  const stage = await stageFile(source, ctx.settings.storageDir, { copy });
  const tombs: string[] = [];
  let result: { row: ContainerRow; created: boolean };
  try {
    result = withFileSteps(catalog, (undo) => {
      const replaced = setAside(path, undo);
      if (replaced) tombs.push(replaced);
      renameIntoPlace(stage, path, undo);
      const existing = catalog.getContainer(uri);
      return catalog.upsertContainer({
        collection: uri.collection,
        name: uri.name,
        tag: uri.tag,
        version,
        client,
        image: path,
        url: existing?.url ?? `${uri.collection}/${uri.name}`,
        metrics: addMetrics(uri, options.name ?? ""),
      });
    });
  } catch (err) {
    await unstageFile(stage, source, { copy });
    throw err;
  }
  finishFileSteps(catalog, tombs, []);
  ctx.logger.debug(`${copy ? "copied" : "moved"} ${source} to ${path}`);
  return { ...result, uri: formatCatalogUri(uri), path, version, client };
}

/** The absolute path of an existing regular file; `Cannot find <path>` otherwise (the original's text). */
function checkedSource(file: string): string {
  const source = resolve(file);
  try {
    if (!statSync(source).isFile()) {
      throw new SregistryError(`${file} is not a file`, { code: "NOT_A_FILE" });
    }
  } catch (err) {
    if (err instanceof SregistryError) throw err;
    if (isErrnoCode(err, "ENOENT") || isErrnoCode(err, "ENOTDIR")) {
      throw new SregistryError(`Cannot find ${file}`, { code: "NOT_FOUND" });
    }
    throw new SregistryError(`Cannot read ${file}: ${(err as Error).message}`, { code: "IO", cause: err });
  }
  return source;
}

/** The original's metrics for an added file: the parsed-name fields and `type`. */
function addMetrics(uri: CatalogUri & { version: string }, original: string): Record<string, string> {
  const text = formatCatalogUri(uri);
  return {
    collection: uri.collection,
    image: uri.name,
    tag: uri.tag,
    version: uri.version,
    uri: text,
    url: `${uri.collection}/${uri.name}`,
    storage: `${text}.sif`,
    original,
    type: "container",
  };
}
