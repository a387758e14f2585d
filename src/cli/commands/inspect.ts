/** `sregistry inspect <query>`: where the image is, then the catalog row as JSON. */
import type { Command } from "commander";
import { inspect } from "../../api/inspect.js";
import { formatInspectJson } from "../inspect-format.js";
import type { CliRuntime } from "../runtime.js";

export function registerInspect(program: Command, rt: CliRuntime): void {
  program
    .command("inspect")
    .description("show an image's catalog record (manifests and config in metrics)")
    .argument("<query>", "collection/name:tag[@version]")
    .option("--json", "print only the JSON record (for scripts)")
    .addHelpText("after", "\nExample:\n  sregistry inspect nvidia/caffe2:17.10")
    .action(async (query: string, options: { json?: boolean }) => {
      const result = await inspect(rt.context(), query);
      if (!options.json && result.location) rt.printValue(result.location);
      rt.print(formatInspectJson(result.record));
    });
}
