/** `sregistry version`: the bare version number. */
import type { Command } from "commander";
import { VERSION } from "../../version.js";
import type { CliRuntime } from "../runtime.js";

export function registerVersion(program: Command, rt: CliRuntime): void {
  program
    .command("version")
    .description("print the version")
    .addHelpText("after", "\nExample:\n  sregistry version")
    .action(() => rt.print(VERSION));
}
