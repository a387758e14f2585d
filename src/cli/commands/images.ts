/**
 * `sregistry images [query...]`: the catalog table, one listing per query word.
 *
 * No match prints nothing when stdout is not a terminal (as the original, so scripts see empty
 * output) and one short line on a terminal; `--json` prints `[]`.
 */
import type { Command } from "commander";
import { imageSummaries, images } from "../../api/images.js";
import type { ContainerRow } from "../../catalog/catalog.js";
import { imagesTable, rowForJson } from "../rows.js";
import type { CliRuntime } from "../runtime.js";

export function registerImages(program: Command, rt: CliRuntime): void {
  program
    .command("images")
    .description("list images in the local catalog")
    .argument("[query...]", "only rows whose name, tag or uri match each word")
    .option("--json", "print the rows as JSON")
    .addHelpText("after", "\nExamples:\n  sregistry images\n  sregistry images caffe2 --json")
    .action(async (query: string[], options: { json?: boolean }) => {
      const ctx = rt.context();
      const words = query.length === 0 ? [undefined] : query;
      if (options.json) {
        const rows: ContainerRow[] = [];
        for (const word of words) rows.push(...(await images(ctx, word)));
        rt.printJson(rows.map(rowForJson));
        return;
      }
      let found = 0;
      for (const word of words) {
        const rows = await imageSummaries(ctx, word);
        found += rows.length;
        if (rows.length === 0) continue;
        // Printed through the logger at INFO, as the original: MESSAGELEVEL=QUIET hides the table.
        ctx.logger.info(imagesTable(rows, { color: rt.color }));
      }
      if (found === 0 && rt.stdout.isTTY) {
        ctx.logger.info(
          query.length === 0 ? "No images in the catalog." : `No images match ${query.join(" ")}.`,
        );
      }
    });
}
