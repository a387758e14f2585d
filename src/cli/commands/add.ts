/** `sregistry add <image> --name <uri> [--copy]`: a local image file into storage and the catalog. */
import type { Command } from "commander";
import { add } from "../../api/add.js";
import { rowForJson } from "../rows.js";
import type { CliRuntime } from "../runtime.js";

export function registerAdd(program: Command, rt: CliRuntime): void {
  program
    .command("add")
    .description(
      "add a local SIF image to storage and the catalog (moved, or copied with --copy); it is checked first",
    )
    .argument("<image>", "path of the image file")
    .option(
      "--name <uri>",
      "catalog uri: collection/name[:tag][@version]; version default = sha256 of the file",
    )
    .option("--copy", "copy the file instead of moving it (for a symbolic link: copy the file it points to)")
    .option(
      "-f, --force",
      "add a file that is not a SIF (e.g. a Singularity 2 image); a damaged SIF is never added",
    )
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  sregistry add hello.sif --name vsoch/hello-world:latest --copy")
    .action(
      async (image: string, options: { name?: string; copy?: boolean; force?: boolean; json?: boolean }) => {
        const result = await add(rt.context(), image, {
          ...(options.name === undefined ? {} : { name: options.name }),
          copy: Boolean(options.copy),
          force: Boolean(options.force),
        });
        if (options.json) {
          const { created, uri, path, version, client, row } = result;
          return rt.printJson({ created, uri, path, version, client, row: rowForJson(row) });
        }
        rt.logger.info(`[container][${result.created ? "new" : "update"}] ${result.uri}`);
      },
    );
}
