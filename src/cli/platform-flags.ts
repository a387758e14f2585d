/**
 * `--platform os/arch[/variant]` and `--arch NAME` for the commands that choose an image from an
 * index (pull, record, search); they override SREGISTRY_DOCKER_OS/_ARCHITECTURE/_VARIANT. The
 * names `--arch` accepts are in config/platform-option.ts.
 *
 * @example
 * ```ts
 * withPlatformFlags(program.command("pull")).action((image, flags) => {
 *   const platform = chosenPlatform(flags, ctx.settings);
 * });
 * ```
 */
import type { Command } from "commander";
import { platformFromOptions, type PlatformOptions } from "../config/platform-option.js";
import type { Settings } from "../config/types.js";
import type { Platform } from "../oci/types.js";

/** Adds the two flags to `command` and returns it. */
export function withPlatformFlags(command: Command): Command {
  return command
    .option(
      "--platform <os/arch[/variant]>",
      "platform to pick from a multi-platform image, e.g. linux/arm64",
    )
    .option("--arch <name>", "architecture, Apptainer style: amd64, arm64, ppc64le, s390x, arm32v7, ...");
}

/** The flags' platform, or undefined when neither flag was given (the settings apply). */
export function chosenPlatform(flags: PlatformOptions, settings: Settings): Platform | undefined {
  if (flags.platform === undefined && flags.arch === undefined) return undefined;
  return platformFromOptions(flags, settings.platform);
}
