/** `sregistry rm <image>` (and `rmi`): delete an image's catalog row and its file. */
import type { Command } from "commander";
import { rm } from "../../api/rm.js";
import { resolveClientName } from "../../config/backend.js";
import { rowForJson } from "../rows.js";
import { SregistryError } from "../../util/errors.js";
import type { CliRuntime } from "../runtime.js";

export function registerRm(program: Command, rt: CliRuntime): void {
  define(program, rt, "rm", "remove an image: its catalog row and its file");
}

/** The original's former `rmi`, now the same as `rm`. */
export function registerRmi(program: Command, rt: CliRuntime): void {
  define(program, rt, "rmi", "same as rm");
}

function define(program: Command, rt: CliRuntime, name: string, description: string): void {
  program
    .command(name)
    .description(description)
    .argument("<image>", "collection/name[:tag][@version]")
    .option("--json", "print what was removed as JSON")
    .addHelpText(
      "after",
      "\nExit status 1 when the image file was already gone (the row is removed all the same), as in\n" +
        `sregistry-cli; 0 for a remote record.\n\nExample:\n  sregistry ${name} vsoch/hello-world:latest`,
    )
    .action(async (image: string, options: { json?: boolean }) => {
      const ctx = rt.context();
      if (!options.json) rt.announce(resolveClientName(image, ctx.settings).client);
      const removed = await rm(ctx, image);
      if (options.json) rt.printJson({ ...removed, row: rowForJson(removed.row) });
      else {
        // Like the original: the `get` line of what is removed, then notes.
        if (removed.location !== null) rt.printValue(removed.location);
        if (removed.fileMissing)
          rt.logger.warning(`image file ${removed.row.image} does not exist on the file system!`);
        if (removed.row.image === null) rt.logger.info(`[rm] ${removed.uri}`);
      }
      // The original exits 1 when the file was already gone; scripts use that to notice it.
      if (removed.fileMissing) {
        throw new SregistryError(`the image file of ${image} was already gone; its catalog row is removed`, {
          code: "NOT_FOUND",
        });
      }
    });
}
