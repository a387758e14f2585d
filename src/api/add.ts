/**
 * `add`: puts a local image file into storage under a catalog uri and records it.
 *
 * The version is the sha256 of the file unless the uri names one (`…@<version>`); the file is
 * moved (or copied with `copy`) to `<storage>/<collection>/<name>/<tag>@<version>.sif`. The row is
 * created, or updated when one with the same collection/name/tag/version exists (its url kept,
 * metrics merged). As in the original, the `client` column is the current client (SREGISTRY_CLIENT,
 * else the secrets file, else `hub`) and a `scheme://` on the name is dropped, not recorded.
 *
 * Nothing moves before the file is checked (see source-check.ts): a SIF must be well formed
 * (header and every descriptor inside the file), anything else needs `force`; an empty file and
 * a damaged SIF are always refused; a symbolic link is never moved into storage (it would point
 * outside it) — with `copy` the file it points to is copied. The staged file is checked again,
 * so what lands in storage is exactly what was checked and hashed.
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
import type { ContainerRow } from "../catalog/catalog.js";
import { sha256File, storagePath } from "../catalog/storage.js";
import { resolveClientName } from "../config/backend.js";
import { formatCatalogUri, parseCatalogUri, type CatalogUri } from "../reference/catalog-uri.js";
import { stripScheme } from "../reference/grammar.js";
import { SregistryError } from "../util/errors.js";
import type { Context } from "./context.js";
import { checkedSource, checkStaged } from "./source-check.js";
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
  /** Copy the file instead of moving it (required for a symbolic link: its target is copied). */
  copy?: boolean;
  /** Accept a file that is not a SIF at all (e.g. a Singularity 2 image); never a damaged SIF. */
  force?: boolean;
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
  // Validates the scheme (an unknown one is an error); the client column is the current client.
  resolveClientName(options.name, ctx.settings);
  const client = ctx.settings.defaultClient;
  const names = parseCatalogUri(options.name);
  const copy = options.copy ?? false;
  const force = options.force ?? false;
  const source = await checkedSource(file, { copy, force });
  const catalog = ctx.catalog();

  const stage = await stageFile(source, ctx.settings.storageDir, { copy });
  const tombs: string[] = [];
  let result: { row: ContainerRow; created: boolean; uri: CatalogUri & { version: string }; path: string };
  try {
    await checkStaged(stage, file, force);
    const version = names.version ?? (await sha256File(stage));
    const uri = { ...names, version };
    const path = storagePath(ctx.settings.storageDir, uri);
    const written = await withFileSteps(catalog, async (undo, tx) => {
      const replaced = setAside(path, undo);
      if (replaced) tombs.push(replaced);
      renameIntoPlace(stage, path, undo);
      const existing = await tx.getContainer(uri);
      return tx.upsertContainer({
        collection: uri.collection,
        name: uri.name,
        tag: uri.tag,
        version,
        client,
        image: path,
        url: existing?.url ?? `${uri.collection}/${uri.name}`,
        metrics: addMetrics(names, stripScheme(options.name ?? "")),
      });
    });
    result = { ...written, uri, path };
  } catch (err) {
    await unstageFile(stage, source, { copy });
    throw err;
  }
  await finishFileSteps(catalog, tombs, []);
  ctx.logger.debug(`${copy ? "copied" : "moved"} ${source} to ${result.path}`);
  const { row, created, uri, path } = result;
  return { row, created, uri: formatCatalogUri(uri), path, version: uri.version, client };
}

/**
 * The original's metrics for an added file: its parsed name as given, before the version was
 * known — `registry` and `version` null unless the name had them, `uri` and `storage` without
 * `@version` (sregistry-cli 0.2.39 `parse_image_name` on the `--name` text), plus `type`.
 */
function addMetrics(names: CatalogUri, original: string): Record<string, string | null> {
  const given = formatCatalogUri(names);
  return {
    collection: names.collection,
    image: names.name,
    tag: names.tag,
    version: names.version ?? null,
    registry: null,
    uri: given,
    url: `${names.collection}/${names.name}`,
    storage: `${given}.sif`,
    original,
    type: "container",
  };
}
