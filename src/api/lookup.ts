/**
 * Finds the catalog row a user means by a query such as `nvidia/caffe2:17.10`,
 * `library/ubuntu:latest@<version>` or `docker://ubuntu` (scheme stripped, defaults applied).
 *
 * @example
 * ```ts
 * const row = await findContainer(ctx.catalog(), "nvidia/caffe2:17.10");
 * ```
 */
import type { Catalog, ContainerRow } from "../catalog/catalog.js";
import { parseCatalogUri } from "../reference/catalog-uri.js";

/** The matching row, or undefined. Without a version, the smallest version string wins (as the original). */
export function findContainer(catalog: Catalog, query: string): Promise<ContainerRow | undefined> {
  const uri = parseCatalogUri(query);
  return catalog.getContainer({
    collection: uri.collection,
    name: uri.name,
    tag: uri.tag,
    ...(uri.version ? { version: uri.version } : {}),
  });
}
