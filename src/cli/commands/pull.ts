/** `sregistry pull <image>`: registry image → SIF in storage, recorded in the catalog. */
import { Option, type Command } from "commander";
import { pull } from "../../api/pull.js";
import { resolveClientName } from "../../config/backend.js";
import { SregistryError } from "../../util/errors.js";
import { PullProgress } from "../progress.js";
import type { CliRuntime } from "../runtime.js";

interface PullFlags {
  name?: string;
  force?: boolean;
  cache?: boolean;
  compression: "gzip" | "zstd" | "lz4";
  threads?: string;
  allowForeignLayers?: boolean;
}

export function registerPull(program: Command, rt: CliRuntime): void {
  program
    .command("pull")
    .description("pull an image from a registry into a SIF file in storage, and record it")
    .argument("<image>", "image uri, e.g. nvidia://tensorflow:17.11 or docker://ubuntu:22.04")
    .option("--name <file>", "build into this file (kept there with --no-cache or SREGISTRY_DISABLE)")
    .option("-f, --force", "rebuild even if the same manifest was already pulled")
    .option("--no-cache", "do not add the image to storage and the catalog")
    .addOption(
      new Option("--compression <algo>", "squashfs compression (gzip mounts everywhere)")
        .choices(["gzip", "zstd", "lz4"])
        .default("gzip"),
    )
    .option("--threads <n>", "parallel layer downloads (default SREGISTRY_PYTHON_THREADS, 9)")
    .option("--allow-foreign-layers", "also fetch non-distributable layers")
    .addHelpText(
      "after",
      "\nExamples:\n  SREGISTRY_NVIDIA_TOKEN=<key> sregistry pull nvidia://tensorflow:17.11\n" +
        "  sregistry pull --compression zstd docker://ubuntu:22.04",
    )
    .action(async (image: string, flags: PullFlags) => {
      const ctx = rt.context();
      rt.announce(resolveClientName(image, ctx.settings).client);
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 64)) {
        throw new SregistryError(`--threads must be an integer from 1 to 64, got ${flags.threads}`);
      }
      const progress = rt.flags.quiet ? undefined : new PullProgress(rt.stderr, { tty: Boolean(rt.stderr.isTTY) });
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const result = await pull(ctx, image, {
          ...(flags.name ? { name: flags.name } : {}),
          force: Boolean(flags.force),
          noCache: flags.cache === false,
          compression: flags.compression,
          ...(threads ? { threads } : {}),
          allowForeignLayers: Boolean(flags.allowForeignLayers),
          ...(progress ? { onEvent: (event) => progress.handle(event) } : {}),
          signal: abort.signal,
        });
        if (result.reused) ctx.logger.info(`[container][exists] ${result.uri}`);
        ctx.logger.info(`Success! ${result.path}`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
