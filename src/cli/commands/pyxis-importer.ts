/**
 * `sregistry pyxis-importer get URI` / `release`: the Pyxis importer plugin (see pyxis/importer.ts).
 * stdout carries only the squashfs path; every message goes to stderr.
 *
 * @example
 * ```sh
 * # plugstack.conf
 * required /usr/lib/x86_64-linux-gnu/slurm/spank_pyxis.so importer=/usr/local/bin/sregistry-pyxis-importer
 * ```
 */
import type { Command } from "commander";
import { Context } from "../../api/context.js";
import { importerGet, importerRelease, pyxisStep } from "../../pyxis/importer.js";
import { Logger, LEVELS, parseMessageLevel } from "../../util/log.js";
import type { CliRuntime } from "../runtime.js";
import { keepYoungGenerationSmall } from "../young-generation.js";

export function registerPyxisImporter(program: Command, rt: CliRuntime): void {
  const cmd = program
    .command("pyxis-importer")
    .description("Pyxis importer plugin: squashfs images from a digest-keyed cache shared by job steps");
  cmd
    .command("get")
    .description("print the path of the image's squashfs for this job step (PYXIS_RUNTIME_PATH, SLURM_*)")
    .argument("<uri>", "enroot image uri, e.g. docker://nvcr.io#nvidia/pytorch:24.01-py3")
    .action(async (uri: string) => {
      keepYoungGenerationSmall();
      const step = pyxisStep(rt.env);
      const path = await importerGet(stderrContext(rt), uri, step);
      rt.stdout.write(path + "\n");
    });
  cmd
    .command("release")
    .description("remove this job step's squashfs link (idempotent; the cache stays)")
    .action(async () => {
      await importerRelease(pyxisStep(rt.env));
    });
}

/** A context whose logger writes everything to stderr: Pyxis reads the path from stdout. */
function stderrContext(rt: CliRuntime): Context {
  const level = rt.flags.debug ? LEVELS.DEBUG : parseMessageLevel(rt.env.MESSAGELEVEL);
  return new Context({ env: rt.env, logger: new Logger({ level, stdout: rt.stderr, stderr: rt.stderr }) });
}
