/**
 * `Sregistry`: the library's public face. One instance = one set of settings, one logger and one
 * catalog connection; each method is one CLI command without the formatting.
 *
 * @example
 * ```ts
 * const client = new Sregistry({ env: process.env });
 * for (const row of client.images()) console.log(row.uri);
 * client.close();
 * ```
 */
import type { ContainerRow } from "../catalog/catalog.js";
import { Context, type ContextOptions } from "./context.js";
import { get } from "./get.js";
import { images } from "./images.js";
import { inspect, type InspectResult } from "./inspect.js";
import { pull, type PullOptions, type PullResult } from "./pull.js";
import { pushOras, type PushOrasOptions, type PushOrasResult } from "./oras.js";
import { record, type RecordOptions, type RecordResult } from "./record.js";
import { add, type AddOptions, type AddResult } from "./add.js";
import {
  activateBackend,
  addBackendSetting,
  backendStatus,
  deactivateBackend,
  deleteBackend,
  listBackends,
  removeBackendSetting,
  showBackend,
  type BackendStatus,
  type SettingChange,
} from "./backend-config.js";
import { labels, type ImageLabels, type LabelsQuery } from "./labels.js";
import { mv, type MoveResult } from "./mv.js";
import { rename, type RenameResult } from "./rename.js";
import { rm, type RemoveResult } from "./rm.js";
import { search, type SearchOptions, type SearchResult } from "./search.js";
import { shell, type ShellOptions } from "./shell.js";
import {
  cacheClean,
  cacheList,
  type CacheCleanOptions,
  type CacheCleanResult,
  type CacheListing,
} from "./cache.js";

export type SregistryOptions = ContextOptions;

export class Sregistry {
  readonly context: Context;

  constructor(options: SregistryOptions = {}) {
    this.context = new Context(options);
  }

  get settings() {
    return this.context.settings;
  }

  /**
   * Pulls an image into a SIF in storage and records it (see `PullOptions` for --name, --force,
   * --no-cache, compression, threads, sandbox and progress events).
   *
   * @example
   * ```ts
   * const { path, uri } = await client.pull("nvidia://tensorflow:17.11", { onEvent: (e) => console.log(e.type) });
   * ```
   */
  pull(image: string, options: PullOptions = {}): Promise<PullResult> {
    return pull(this.context, image, options);
  }

  /** Records an image's manifests in the catalog (no layers); `platform` overrides the settings'. */
  record(image: string, options: RecordOptions = {}): Promise<RecordResult> {
    return record(this.context, image, options);
  }

  /**
   * Uploads a SIF file or catalog image to `oras://registry/repo:tag`, as `apptainer push` does.
   *
   * @example
   * ```ts
   * await client.push("nvidia/pytorch:24.01-py3", "oras://registry.site.org/ngc/pytorch:24.01-py3");
   * ```
   */
  push(image: string, target: string, options: PushOrasOptions = {}): Promise<PushOrasResult> {
    return pushOras(this.context, image, target, options);
  }

  /** Catalog rows, optionally filtered by a query word. */
  images(query?: string): Promise<ContainerRow[]> {
    return images(this.context, query);
  }

  /** The catalog record of an image and where it is. */
  inspect(query: string): Promise<InspectResult> {
    return inspect(this.context, query);
  }

  /** Local path of an image, or its manifest URL for a remote record. */
  get(query: string): Promise<string> {
    return get(this.context, query);
  }

  /**
   * Adds a local image file to storage and the catalog (moved, or copied with `copy`).
   * @example `await client.add("hello.sif", { name: "vsoch/hello-world:latest" })`
   */
  add(file: string, options: AddOptions): Promise<AddResult> {
    return add(this.context, file, options);
  }

  /**
   * Moves an image file to a folder or file path, keeping its catalog row in step.
   * @example `await client.mv("vsoch/hello-world:latest", "/scratch/")`
   */
  mv(query: string, destination: string): Promise<MoveResult> {
    return mv(this.context, query, destination);
  }

  /**
   * Gives an image a new uri (same version); its file moves to the new storage path.
   * @example `await client.rename("vsoch/hello-world:latest", "mine/hello:v1")`
   */
  rename(query: string, newUri: string): Promise<RenameResult> {
    return rename(this.context, query, newUri);
  }

  /**
   * Removes an image's catalog row and file (`rmi` is the same).
   * @example `(await client.rm("vsoch/hello-world:latest")).location`
   */
  rm(query: string): Promise<RemoveResult> {
    return rm(this.context, query);
  }

  /** Same as `rm`. */
  rmi(query: string): Promise<RemoveResult> {
    return rm(this.context, query);
  }

  /**
   * Searches the catalog and, for docker/nvidia, lists the repository's tags on the registry.
   * @example `(await client.search(["nvidia://tensorflow"])).remote[0]?.tags`
   */
  search(query: string[] = [], options: SearchOptions = {}): Promise<SearchResult> {
    return search(this.context, query, options);
  }

  /**
   * Image labels in the catalog, grouped per image.
   * @example `await client.labels({ key: "maintainer" })`
   */
  labels(query: LabelsQuery = {}): Promise<ImageLabels[]> {
    return labels(this.context, query);
  }

  /**
   * An interactive REPL with this library loaded; resolves when it is closed.
   * @example `await client.shell({ backend: "nvidia" })`
   */
  shell(options: ShellOptions = {}): Promise<void> {
    return shell(this.context, options);
  }

  /** Backend names in the secrets file. @example `client.backends()` */
  backends(): string[] {
    return listBackends(this.context);
  }

  /** One backend's settings from the secrets file (unmasked), or undefined. */
  backendSettings(name: string): Record<string, unknown> | undefined {
    return showBackend(this.context, name);
  }

  /** Number of backends and the active one. */
  backendStatus(): BackendStatus {
    return backendStatus(this.context);
  }

  /** Makes `name` the default client. @example `client.activateBackend("nvidia")` */
  activateBackend(name: string): string {
    return activateBackend(this.context, name);
  }

  /** Clears the default client; returns the one that was active. */
  deactivateBackend(): string | undefined {
    return deactivateBackend(this.context);
  }

  /** Sets `SREGISTRY_<BACKEND>_<VAR>`. @example `client.addBackendSetting("nvidia", "token", key)` */
  addBackendSetting(
    backend: string,
    variable: string,
    value: string,
    options: { force?: boolean } = {},
  ): SettingChange {
    return addBackendSetting(this.context, backend, variable, value, options);
  }

  /** Unsets a backend variable. */
  removeBackendSetting(
    backend: string,
    variable: string,
  ): { backend: string; key: string; removed: boolean } {
    return removeBackendSetting(this.context, backend, variable);
  }

  /** Deletes a backend's settings; false when there was none. */
  deleteBackend(name: string): boolean {
    return deleteBackend(this.context, name);
  }

  /**
   * The layer cache's blobs, least recently used first, with sizes, last use and the catalog
   * images that use each.
   *
   * @example
   * ```ts
   * const { blobs, totalBytes } = await client.cacheList();
   * for (const blob of blobs) console.log(blob.digest, blob.size, blob.lastUsed, blob.images.join(","));
   * ```
   */
  cacheList(): Promise<CacheListing> {
    return cacheList(this.context);
  }

  /**
   * Removes cached blobs least recently used first (by age, size budget, or all); blobs a running
   * pull on any host holds are kept.
   *
   * @example
   * ```ts
   * const { removed, freedBytes } = await client.cacheClean({ olderThan: "30d", maxSize: "50G" });
   * await client.cacheClean({ all: true, dryRun: true }); // what --all would remove
   * ```
   */
  cacheClean(options: CacheCleanOptions): Promise<CacheCleanResult> {
    return cacheClean(this.context, options);
  }

  close(): void {
    this.context.close();
  }
}
