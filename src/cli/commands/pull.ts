/**
 * `sregistry pull <image>`: registry image → SIF in storage, recorded in the catalog.
 *
 * Interrupts: the first SIGINT/SIGTERM aborts the pull, which cleans up (temporary SIF removed,
 * squashfs tool stopped, no unverified blob kept, no catalog row) and ends with one line
 * `ERROR interrupted` and status 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once.
 *
 * @example
 * ```sh
 * sregistry pull --compression zstd docker://ubuntu:22.04
 * sregistry pull --sandbox ./ubuntu docker://ubuntu:22.04
 * ```
 */
import { Option, type Command } from "commander";
import { pushOras } from "../../api/oras.js";
import { pull, type PullResult } from "../../api/pull.js";
import { registryClient } from "../../pull/remote.js";
import { parseBuilder } from "../../image/squashfs/choose-builder.js";
import { parseCompression } from "../../image/squashfs/compression.js";
import { parseCatalogUri } from "../../reference/catalog-uri.js";
import { parseOrasUri } from "../../reference/oras.js";
import { SregistryError } from "../../util/errors.js";
import { chosenPlatform, withPlatformFlags } from "../platform-flags.js";
import { PullProgress } from "../progress.js";
import type { CliRuntime } from "../runtime.js";
import { keepYoungGenerationSmall } from "../young-generation.js";

interface PullFlags {
  name?: string;
  sandbox?: string;
  force?: boolean;
  cache?: boolean;
  compression: string;
  builder?: string;
  threads?: string;
  allowForeignLayers?: boolean;
  insecure?: boolean;
  platform?: string;
  arch?: string;
  pushTo?: string;
  format: string;
}

const SIGNAL_STATUS: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export function registerPull(program: Command, rt: CliRuntime): void {
  withPlatformFlags(program.command("pull"))
    .description("pull an image from a registry into a SIF file in storage, and record it")
    .argument(
      "<image>",
      "image uri, e.g. nvidia://tensorflow:17.11, docker://ubuntu:22.04, oras://host/repo:tag",
    )
    .option("--name <file>", "build into this file (kept there with --no-cache or SREGISTRY_DISABLE)")
    .addOption(
      new Option("--format <format>", "sif, or squashfs: a plain .sqsh for enroot and Pyxis (not recorded)")
        .choices(["sif", "squashfs"])
        .default("sif"),
    )
    .option("--sandbox <dir>", "write a plain directory (new or empty) instead of a SIF; not recorded")
    .option("-f, --force", "rebuild even if the same manifest was already pulled")
    .option("--no-cache", "do not add the image to storage and the catalog")
    .addOption(
      new Option(
        "--compression <algo[:level]>",
        "squashfs compression: gzip (mounts everywhere), zstd, lz4; levels gzip:1-9 (6), zstd:1-22 (3), lz4:hc",
      ).default("gzip"),
    )
    .option(
      "--builder <name>",
      "who writes the squashfs: native (in process, gzip), tar2sqfs or sqfstar (default SREGISTRY_BUILDER, else native)",
    )
    .option("--threads <n>", "parallel layer downloads (default SREGISTRY_PYTHON_THREADS, 9)")
    .option("--allow-foreign-layers", "also fetch non-distributable layers")
    .option("--insecure", "plain http to the registry (like SREGISTRY_<CLIENT>_NOHTTPS=yes)")
    .option(
      "--push-to <oras-uri>",
      "then push the SIF to oras://registry/repo:tag, for everyone else to pull",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  SREGISTRY_NVIDIA_TOKEN=<key> sregistry pull nvidia://tensorflow:17.11\n" +
        "  sregistry pull --compression zstd docker://ubuntu:22.04\n" +
        "  sregistry pull --arch arm64 docker://ubuntu:22.04\n" +
        "  sregistry pull --push-to oras://registry.site.org/ngc/pytorch:24.01-py3 nvidia://pytorch:24.01-py3\n" +
        "  sregistry pull --format squashfs --name pytorch.sqsh docker://nvcr.io#nvidia/pytorch:24.01-py3\n" +
        "  sregistry pull --sandbox ./ubuntu docker://ubuntu:22.04",
    )
    .action(async (image: string, flags: PullFlags) => {
      keepYoungGenerationSmall();
      const ctx = rt.context();
      rt.announce(registryClient(ctx, image).client);
      const threads = parseThreads(flags.threads);
      const compression = parseCompression(flags.compression);
      const builder = parseBuilder(flags.builder);
      const platform = chosenPlatform(flags, ctx.settings);
      if (flags.sandbox !== undefined && flags.name !== undefined) {
        throw new SregistryError("--sandbox and --name cannot be used together");
      }
      // Checked before the pull, so a typo does not surface only after a long build.
      if (flags.format === "squashfs" && flags.sandbox !== undefined) {
        throw new SregistryError("--format squashfs and --sandbox cannot be used together");
      }
      if (flags.pushTo !== undefined) {
        if (flags.format === "squashfs")
          throw new SregistryError("--push-to needs a SIF, not --format squashfs");
        if (flags.sandbox !== undefined) throw new SregistryError("--push-to needs a SIF, not --sandbox");
        parseOrasUri(flags.pushTo);
      }
      const progress = rt.flags.quiet
        ? undefined
        : new PullProgress(rt.stderr, { tty: Boolean(rt.stderr.isTTY) });
      const result = await interruptible(async (signal) => {
        try {
          return await pull(ctx, image, {
            ...(flags.name ? { name: flags.name } : {}),
            ...(flags.sandbox !== undefined ? { sandbox: flags.sandbox } : {}),
            force: Boolean(flags.force),
            ...(flags.format === "squashfs" ? { format: "squashfs" as const } : {}),
            noCache: flags.cache === false,
            compression,
            ...(builder ? { builder } : {}),
            ...(threads ? { threads } : {}),
            allowForeignLayers: Boolean(flags.allowForeignLayers),
            insecure: Boolean(flags.insecure),
            ...(platform ? { platform } : {}),
            ...(progress ? { onEvent: (event) => progress.handle(event) } : {}),
            signal,
          });
        } finally {
          progress?.close();
        }
      });
      report(rt, result);
      if (flags.pushTo !== undefined) {
        const { name, tag } = parseCatalogUri(result.uri);
        await pushOras(ctx, result.path, flags.pushTo, { title: `${name}_${tag}.sif` });
      }
    });
}

function parseThreads(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new SregistryError(`--threads must be an integer from 1 to 64, got ${text}`);
  }
  return threads;
}

function report(rt: CliRuntime, result: PullResult): void {
  const logger = rt.context().logger;
  if (result.reused) logger.info(`[container][exists] ${result.uri}`);
  // With the catalog the image lives in storage; `--name` got a link or copy of it.
  logger.info(`Success! ${result.named ?? result.path}`);
}

/**
 * Runs `task` with a signal that SIGINT/SIGTERM abort; the task's failure after an interrupt
 * becomes one `interrupted` error with the shell's status for that signal.
 */
async function interruptible<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) process.exit(SIGNAL_STATUS[signal] ?? 130); // second signal: give up now
    received = signal;
    abort.abort(interrupted(signal));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await task(abort.signal);
  } catch (err) {
    if (received !== undefined) throw interrupted(received);
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function interrupted(signal: NodeJS.Signals): SregistryError {
  return new SregistryError("interrupted", { code: "INTERRUPTED", exitCode: SIGNAL_STATUS[signal] ?? 130 });
}
