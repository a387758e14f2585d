/**
 * sregistry as a library: every command of the CLI is a typed function here.
 *
 * @example
 * ```ts
 * import { Sregistry } from "sregistry";
 * const client = new Sregistry({ env: { ...process.env, SREGISTRY_CLIENT: "nvidia" } });
 * await client.record("caffe2:17.10");
 * console.log(await client.get("nvidia/caffe2:17.10"));
 * client.close();
 * ```
 */
export { Sregistry, type SregistryOptions } from "./api/sregistry.js";
export { Context, type ContextOptions } from "./api/context.js";
export { SregistryError, type ErrorCode } from "./util/errors.js";
export { Logger, LEVELS, parseMessageLevel } from "./util/log.js";
export type { Settings, BackendSettings } from "./config/types.js";
export type { ContainerRow } from "./catalog/catalog.js";
export type { RecordOptions, RecordResult } from "./api/record.js";
export type { PushOrasOptions, PushOrasResult } from "./api/oras.js";
export type { PullOptions, PullResult } from "./api/pull.js";
export type { BuilderName } from "./image/squashfs/choose-builder.js";
export type { PullEvent, PullStage } from "./pull/events.js";
export type { AddOptions, AddResult } from "./api/add.js";
export type { SearchOptions, SearchResult } from "./api/search.js";
export type { InspectResult } from "./api/inspect.js";
export type { CacheCleanOptions, CacheCleanResult, CacheEntry, CacheListing } from "./api/cache.js";
export { VERSION } from "./version.js";
