/**
 * What one pull carries through its stages (pipeline.ts): the options, the context, the build key,
 * the stage timer, and the few facts every stage derives the same way (where the output is built,
 * the file a pull without the catalog writes, how a full disk is reported).
 *
 * @example
 * ```ts
 * const timer = stageTimer();
 * timer.end("resolve");
 * timer.seconds.resolve; // seconds since the timer started
 * ```
 */
import { dirname, resolve } from "node:path";
import type { Catalog, ContainerRow } from "../catalog/catalog.js";
import type { BuilderName, ChosenBuilder } from "../image/squashfs/choose-builder.js";
import type { CompressionSpec } from "../image/squashfs/compression.js";
import type { Platform } from "../oci/types.js";
import { freeBytes, isNoSpace, noSpaceError } from "../util/disk.js";
import type { Remote, RemoteContext } from "./remote.js";
import { catalogNames } from "../catalog/image-metrics.js";
import type { PullEventListener, PullOutput, PullStage } from "./events.js";
import { buildDirectory } from "./temp-files.js";

export interface PullOptions {
  /**
   * Output file (the original's --name). With a catalog the image is stored as usual and this file
   * becomes a hard link to (or a copy of) the stored SIF, also when the pull reused it.
   */
  name?: string;
  /** Write a plain directory here instead of a SIF (no catalog row). */
  sandbox?: string;
  /** Rebuild even when the same manifest was already built. */
  force?: boolean;
  /** No catalog row; the file stays where it was built (the original's --no-cache). */
  noCache?: boolean;
  /**
   * `gzip` (default), `zstd`, `lz4`, optionally with a level: `gzip:9`, `zstd:19`, `lz4:hc`
   * (see image/squashfs/compression.ts); the defaults are gzip 6 and zstd 3.
   */
  compression?: string | CompressionSpec;
  /**
   * Who writes the squashfs: `native` (in process), `tar2sqfs` or `sqfstar`; default
   * SREGISTRY_BUILDER, else image/squashfs/choose-builder.ts's default.
   */
  builder?: BuilderName;
  /** Parallel downloads; default SREGISTRY_PYTHON_THREADS. */
  threads?: number;
  allowForeignLayers?: boolean;
  /**
   * `squashfs`: a plain enroot/Pyxis image (`.sqsh`, see image/enroot/) at `name` or
   * `<name>:<tag>.sqsh`, with no catalog row (the catalog holds SIFs). Default `sif`.
   */
  format?: "sif" | "squashfs";
  /** The platform to pick from an index (`--platform`/`--arch`); default the settings'. */
  platform?: Platform;
  /** Plain http for this pull (`--insecure`), as if SREGISTRY_<CLIENT>_NOHTTPS were set. */
  insecure?: boolean;
  onEvent?: PullEventListener;
  signal?: AbortSignal;
}

export interface PullResult {
  /** The SIF (or the sandbox directory). */
  path: string;
  uri: string;
  /** sha256 of the SIF (the digest when pulled by digest); "" for a sandbox. */
  version: string;
  /** True when an existing SIF for the same manifest was reused without building. */
  reused: boolean;
  /** The catalog row, when the catalog is in use. */
  row?: ContainerRow;
  /** With the catalog and `name`: the file made there (a hard link to, or a copy of, `path`). */
  named?: string;
  /** True when the catalog row was inserted (false: an existing row was updated or reused). */
  created: boolean;
  seconds: Record<PullStage, number>;
}

/** What the pipeline needs from the command context (api/context.ts `Context` is one). */
export interface PipelineContext extends RemoteContext {
  /** True when the catalog and storage are in use. */
  readonly catalogEnabled: boolean;
  catalog(): Catalog;
}

/** One pull in progress: what every stage reads (`outputBytes` is set by the space check). */
export interface Job {
  ctx: PipelineContext;
  remote: Remote;
  options: PullOptions;
  useCatalog: boolean;
  compression: CompressionSpec;
  builder: ChosenBuilder;
  key: string;
  /** Estimated size of the output, for a full-disk message. */
  outputBytes: number;
  emit: PullEventListener;
  timer: ReturnType<typeof stageTimer>;
}

/**
 * Where the output is built: on the filesystem of its final place, so the last step is a rename;
 * for storage, its one build directory.
 */
export function outputDir(job: Job): string {
  if (job.options.sandbox !== undefined) return dirname(resolve(job.options.sandbox));
  if (job.useCatalog) return buildDirectory(job.ctx.settings.storageDir);
  return dirname(noCacheTarget(job.remote, job.options));
}

/** The file a pull without the catalog writes: `--name`, or `<name>:<tag>.sif` here. */
export function noCacheTarget(remote: Remote, options: PullOptions): string {
  const names = catalogNames(remote.reference);
  return resolve(options.name ?? `${names.name}:${names.tag}${outputSuffix(options)}`);
}

/** Runs `work`; a full disk becomes one error naming the filesystem, the place and the size needed. */
export async function explainFullDisk<T>(
  dir: string,
  what: string,
  estimated: number,
  work: () => Promise<T>,
): Promise<T> {
  const freeBefore = await freeBytes(dir).catch(() => undefined);
  try {
    return await work();
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    throw await noSpaceError(dir, what, { estimated, freeBefore }, err);
  }
}

/** `.sqsh` for `--format squashfs`, else `.sif`. */
export function outputSuffix(options: PullOptions): string {
  return options.format === "squashfs" ? ".sqsh" : ".sif";
}

/** `{ signal }` only when there is one (optional properties stay absent, not undefined). */
export function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

/** Seconds spent per stage: `end(stage)` charges the time since the previous `end`. */
export function stageTimer() {
  const seconds: Record<PullStage, number> = { resolve: 0, download: 0, build: 0, store: 0 };
  let last = performance.now();
  return {
    seconds,
    end(stage: PullStage) {
      const now = performance.now();
      seconds[stage] = (now - last) / 1000;
      last = now;
    },
  };
}

/** What the build stage makes, as progress lines name it. */
export function buildOutput(options: PullOptions): PullOutput {
  if (options.sandbox !== undefined) return "sandbox";
  return options.format === "squashfs" ? "squashfs" : "sif";
}
