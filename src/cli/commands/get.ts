/** `sregistry get <query>`: one line, the local path or the manifest URL; usable in `$(...)`. */
import type { Command } from "commander";
import { get } from "../../api/get.js";
import type { CliRuntime } from "../runtime.js";

export function registerGet(program: Command, rt: CliRuntime): void {
  program
    .command("get")
    .description("print the local path of an image, or its manifest URL for a remote record")
    .argument("<query>", "collection/name:tag[@version]")
    .addHelpText("after", "\nExample:\n  singularity run $(sregistry get nvidia/tensorflow:17.11)")
    .action(async (query: string) => {
      rt.printValue(await get(rt.context(), query));
    });
}
