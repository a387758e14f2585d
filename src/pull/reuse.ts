/**
 * Recognises a re-pull of an unchanged image so it can answer at once, without downloading or
 * building: the catalog row of an earlier pull stores, in its metrics, a key made of everything
 * the SIF's bytes depend on (what the reference resolved to, the platform asked for, the options
 * and this tool's version). Builds are reproducible, so an equal key means an equal SIF.
 *
 * The key uses the digest of the document the tag points at (an index or a manifest), which costs
 * one manifest request and no blob request; for a reference by digest it costs nothing.
 *
 * @example
 * ```ts
 * const key = pullKey({ topDigest, platform: settings.platform, reference, compression: "gzip", preferCmd: false });
 * const row = findReusable(catalog, { collection: "library", name: "ubuntu", tag: "22.04" }, key);
 * ```
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import type { Catalog, ContainerRow } from "../catalog/catalog.js";
import type { Platform } from "../oci/types.js";
import { VERSION } from "../version.js";

export interface PullKeyInput {
  /** Digest of what the reference resolved to first: an index, or the image manifest. */
  topDigest: string;
  /** The platform asked for (SREGISTRY_DOCKER_OS/ARCHITECTURE/VARIANT). */
  platform: Platform;
  /** The image as named in the SIF's definition file and labels. */
  reference: string;
  compression: string;
  preferCmd: boolean;
  /**
   * The squashfs builder when it is the native writer (its bytes differ from tar2sqfs's); left out
   * for the external tools so the keys of their earlier builds stay valid.
   */
  builder?: "native";
}

/** Hex sha256 over the inputs of a build; also seeds the SIF's deterministic ID. */
export function pullKey(input: PullKeyInput): string {
  const platform = [input.platform.os, input.platform.architecture, input.platform.variant ?? ""].join("/");
  const parts = [input.topDigest, platform, input.reference, input.compression, String(input.preferCmd)];
  if (input.builder !== undefined) parts.push(`builder=${input.builder}`);
  return createHash("sha256")
    .update(["sregistry-pull", VERSION, ...parts].join("\n"))
    .digest("hex");
}

/** The row of an earlier pull with this key whose file is still there (same size as stored). */
export async function findReusable(
  catalog: Catalog,
  names: { collection: string; name: string; tag: string },
  key: string,
): Promise<ContainerRow | undefined> {
  return (await catalog.listContainers(names.name)).find((row) => {
    if (row.collection !== names.collection || row.name !== names.name || row.tag !== names.tag) return false;
    const metrics = parseObject(row.metrics);
    if (metrics.build !== key || !row.image || !existsSync(row.image)) return false;
    return typeof metrics.size !== "number" || statSync(row.image).size === metrics.size;
  });
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
