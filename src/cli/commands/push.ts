/**
 * `sregistry push <file or catalog uri> oras://registry/repo:tag`: shares a SIF through an OCI
 * registry the way `apptainer push oras://` does, so `apptainer pull oras://…` and
 * `sregistry pull oras://…` fetch it as a ready SIF (api/oras.ts).
 *
 * @example
 * ```sh
 * sregistry push nvidia/pytorch:24.01-py3 oras://registry.site.org/ngc/pytorch:24.01-py3
 * sregistry push ./tools.sif oras://ghcr.io/me/tools:1.0
 * ```
 */
import type { Command } from "commander";
import { pushOras } from "../../api/oras.js";
import type { CliRuntime } from "../runtime.js";

export function registerPush(program: Command, rt: CliRuntime): void {
  program
    .command("push")
    .description("upload a SIF (a file or a catalog image) to an OCI registry as oras://, like Apptainer")
    .argument("<image>", "a SIF file, or a catalog uri such as nvidia/pytorch:24.01-py3")
    .argument("<target>", "oras://registry/repository:tag")
    .addHelpText(
      "after",
      "\nCredentials: enroot's .credentials, then Docker's config.json; SREGISTRY_ORAS_NOHTTPS=yes for plain http.\n" +
        "Examples:\n  sregistry push nvidia/pytorch:24.01-py3 oras://registry.site.org/ngc/pytorch:24.01-py3\n" +
        "  sregistry push ./tools.sif oras://ghcr.io/me/tools:1.0",
    )
    .action(async (image: string, target: string) => {
      const ctx = rt.context();
      rt.announce("oras");
      const result = await pushOras(ctx, image, target);
      rt.logger.info(`Success! ${result.target}`);
    });
}
