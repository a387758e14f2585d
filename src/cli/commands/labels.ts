/**
 * `sregistry labels [--key K] [--value V]`: labels of the catalog's images. Label keys and values
 * come from images, so each is printed on one line with control characters escaped. No match
 * prints one short line on a terminal, nothing when piped, `[]` with `--json`.
 */
import type { Command } from "commander";
import { labels } from "../../api/labels.js";
import type { CliRuntime } from "../runtime.js";

export function registerLabels(program: Command, rt: CliRuntime): void {
  program
    .command("labels")
    .description("search image labels in the local catalog (key and value: case-insensitive parts)")
    .option("-k, --key <key>", "part of the label name")
    .option("-v, --value <value>", "part of the label value")
    .option("--json", "print the matches as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  sregistry labels --key maintainer\n  sregistry labels -k version -v 17 --json",
    )
    .action(async (options: { key?: string; value?: string; json?: boolean }) => {
      const found = await labels(rt.context(), {
        ...(options.key === undefined ? {} : { key: options.key }),
        ...(options.value === undefined ? {} : { value: options.value }),
      });
      if (options.json) {
        return rt.printJson(
          found.map((image) => ({ uri: image.uri, id: image.row.id, labels: image.labels })),
        );
      }
      for (const image of found) {
        rt.printValue(image.uri);
        for (const label of image.labels) rt.printValue(`  ${label.key}:${label.value}`);
      }
      if (found.length === 0 && rt.stdout.isTTY) rt.print("No labels found.");
    });
}
