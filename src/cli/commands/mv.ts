/** `sregistry mv <image> <path>`: move an image file out of storage, keeping its catalog row. */
import { basename } from "node:path";
import type { Command } from "commander";
import { mv } from "../../api/mv.js";
import { resolveClientName } from "../../config/backend.js";
import { rowForJson } from "../rows.js";
import type { CliRuntime } from "../runtime.js";
import { warnWhenMissing } from "./missing.js";

export function registerMv(program: Command, rt: CliRuntime): void {
  program
    .command("mv")
    .description("move an image file to a folder or file path and update its catalog row")
    .argument("<image>", "collection/name[:tag][@version]")
    .argument("<path>", "an existing folder (the file keeps its name) or a new file path")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nAn unknown image, a remote record or a missing file is a WARNING with exit status 0, as in\n" +
        "sregistry-cli.\n\nExample:\n  sregistry mv vsoch/hello-world:latest /scratch/images/",
    )
    .action(async (image: string, path: string, options: { json?: boolean }) => {
      const ctx = rt.context();
      if (!options.json) rt.announce(resolveClientName(image, ctx.settings).client);
      const moved = await warnWhenMissing(rt, () => mv(ctx, image, path));
      if (moved === undefined) return;
      if (options.json) return rt.printJson({ ...moved, row: rowForJson(moved.row) });
      rt.logger.info(`[move] ${basename(moved.from)} => ${moved.to}`);
    });
}
