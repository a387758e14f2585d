/** `sregistry rename <image> <newuri>`: a new catalog name (same version), file moved along. */
import { basename } from "node:path";
import type { Command } from "commander";
import { rename } from "../../api/rename.js";
import { resolveClientName } from "../../config/backend.js";
import { rowForJson } from "../rows.js";
import type { CliRuntime } from "../runtime.js";
import { warnWhenMissing } from "./missing.js";

export function registerRename(program: Command, rt: CliRuntime): void {
  program
    .command("rename")
    .description("give an image a new uri (the version is kept) and move its file to match")
    .argument("<image>", "collection/name[:tag][@version]")
    .argument("<newuri>", "new collection/name[:tag]")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nAn unknown image, a remote record or a missing file is a WARNING with exit status 0, as in\n" +
        "sregistry-cli.\n\nExample:\n  sregistry rename vsoch/hello-world:latest mine/hello:v1",
    )
    .action(async (image: string, newUri: string, options: { json?: boolean }) => {
      const ctx = rt.context();
      if (!options.json) rt.announce(resolveClientName(image, ctx.settings).client);
      const renamed = await warnWhenMissing(rt, () => rename(ctx, image, newUri));
      if (renamed === undefined) return;
      if (options.json) return rt.printJson({ ...renamed, row: rowForJson(renamed.row) });
      rt.logger.info(`[rename] ${basename(renamed.from)} => ${renamed.to}`);
    });
}
