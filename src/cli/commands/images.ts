/** `sregistry images [query...]`: the catalog table, one listing per query word. */
import type { Command } from "commander";
import { images } from "../../api/images.js";
import { formatImagesTable } from "../../catalog/images-format.js";
import type { CliRuntime } from "../runtime.js";

export function registerImages(program: Command, rt: CliRuntime): void {
  program
    .command("images")
    .description("list images in the local catalog")
    .argument("[query...]", "only rows whose name, tag or uri match each word")
    .option("--json", "print the rows as JSON")
    .addHelpText("after", "\nExamples:\n  sregistry images\n  sregistry images caffe2 --json")
    .action((query: string[], options: { json?: boolean }) => {
      const ctx = rt.context();
      const words = query.length === 0 ? [undefined] : query;
      if (options.json) {
        const rows = words.flatMap((word) => images(ctx, word));
        rt.printJson(rows);
        return;
      }
      for (const word of words) {
        const rows = images(ctx, word);
        if (rows.length === 0) continue;
        // Printed through the logger at INFO, as the original: MESSAGELEVEL=QUIET hides the table.
        const table = formatImagesTable(rows, { color: rt.color });
        ctx.logger.info(table.replace(/\n$/, ""));
      }
    });
}
