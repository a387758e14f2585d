/** `sregistry record <image>`: manifests and config into the catalog, no layers. */
import type { Command } from "commander";
import { registryClient } from "../../pull/remote.js";
import { record } from "../../api/record.js";
import { LEVELS } from "../../util/log.js";
import { rowForJson } from "../rows.js";
import type { PlatformOptions } from "../../config/platform-option.js";
import { chosenPlatform, withPlatformFlags } from "../platform-flags.js";
import type { CliRuntime } from "../runtime.js";

export function registerRecord(program: Command, rt: CliRuntime): void {
  withPlatformFlags(program.command("record"))
    .description("record an image's manifests and config in the catalog, without downloading layers")
    .argument("<image>", "image uri, e.g. nvidia://caffe2:17.10 or docker://ubuntu:22.04")
    .option("--json", "print the new or updated row as JSON")
    .option("--insecure", "plain http to the registry (like SREGISTRY_<CLIENT>_NOHTTPS=yes)")
    .addHelpText("after", "\nExample:\n  SREGISTRY_CLIENT=nvidia sregistry record caffe2:17.10")
    .action(async (image: string, options: { json?: boolean; insecure?: boolean } & PlatformOptions) => {
      const ctx = rt.context();
      // With --json, stdout carries the JSON document only.
      if (options.json) rt.logger.level = Math.min(rt.logger.level, LEVELS.WARNING);
      else rt.announce(registryClient(ctx, image).client);
      const platform = chosenPlatform(options, ctx.settings);
      const result = await record(ctx, image, {
        insecure: Boolean(options.insecure),
        ...(platform ? { platform } : {}),
      });
      if (options.json)
        rt.printJson({
          created: result.created,
          exists: result.exists,
          uri: result.uri,
          row: rowForJson(result.row),
        });
    });
}
