/** `sregistry shell [backend]`: a Node REPL with `client`, `catalog` and `Sregistry` in scope. */
import type { Command } from "commander";
import { shell } from "../../api/shell.js";
import type { CliRuntime } from "../runtime.js";

export function registerShell(program: Command, rt: CliRuntime): void {
  program
    .command("shell")
    .description("interactive shell (Node REPL) with a client for the backend, the catalog and Sregistry")
    .argument("[backend]", "client to use, e.g. nvidia or docker (default: the active client)")
    .addHelpText(
      "after",
      "\nExamples:\n  sregistry shell nvidia\n  sregistry> client.images().length\n  sregistry> await client.record('caffe2:17.10')",
    )
    .action(async (backend: string | undefined) => {
      await shell(rt.context(), {
        ...(backend === undefined ? {} : { backend }),
        input: process.stdin,
        output: rt.stdout as unknown as NodeJS.WritableStream,
        quiet: rt.flags.quiet,
      });
    });
}
