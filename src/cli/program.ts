/**
 * The command-line program: global flags, the command list, and the one place where errors
 * become a single `ERROR ...` line and an exit status.
 *
 * @example
 * ```ts
 * const code = await runCli(["images"], { env: process.env, stdout: process.stdout, stderr: process.stderr });
 * ```
 */
import { Command, CommanderError, Help } from "commander";
import { SregistryError } from "../util/errors.js";
import { redact } from "../util/redact.js";
import { sanitizeForTerminal } from "../util/terminal.js";
import { VERSION } from "../version.js";
import { COMMANDS, type CommandSummary } from "./commands/index.js";
import { CliRuntime, type CliStreams } from "./runtime.js";

const BANNER = `Singularity Registry Global Client v${VERSION}`;

/**
 * The program with every command: `running` (the command the arguments name, if any) registered
 * in full from its module, the others from their summaries only, so that a run imports the
 * implementation of one command at most (ARCHITECTURE.md, "Start-up").
 */
async function buildProgram(rt: CliRuntime, running: CommandSummary | undefined): Promise<Command> {
  const summaryTerms = new WeakMap<Command, string>();
  const program = new Command("sregistry")
    .description(BANNER)
    .option("--debug", "print debug messages (MESSAGELEVEL=DEBUG)")
    .option("--quiet", "do not print the client/database announcement line")
    .option("--version", "print the version and exit")
    .addHelpText(
      "after",
      "\nFiles live under the home folder ($HOME when set, else the account's home): ~/.sregistry,\n" +
        "~/.singularity/sregistry.db, ~/.singularity/shub; SREGISTRY_* variables move them.",
    )
    .exitOverride()
    .configureHelp({
      subcommandTerm(command: Command): string {
        return summaryTerms.get(command) ?? Help.prototype.subcommandTerm.call(this, command);
      },
    })
    .configureOutput({
      writeOut: (text) => rt.stdout.write(text),
      writeErr: (text) => rt.stderr.write(text),
      outputError: (text, write) =>
        write(`${sanitizeForTerminal(`ERROR ${text.replace(/^error:\s*/i, "").trim()}`)}\n`),
    })
    .hook("preAction", (command) => {
      const flags = command.optsWithGlobals() as { debug?: boolean; quiet?: boolean };
      rt.flags = { debug: Boolean(flags.debug), quiet: Boolean(flags.quiet) };
    });
  const [register] = await Promise.all([
    running?.load(),
    running?.usesContext ? rt.loadContext() : undefined,
  ]);
  for (const summary of COMMANDS) {
    if (summary === running && register) register(program, rt);
    else summaryTerms.set(summaryCommand(program, summary), summary.term);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** A command known by its summary alone: enough for the root help and the usage line. */
function summaryCommand(program: Command, summary: CommandSummary): Command {
  return program
    .command(summary.name)
    .description(summary.description)
    .action(() => {
      throw new Error(`the ${summary.name} command was not loaded`);
    });
}

/**
 * The command `argv` runs, or whose help it asks for (`help <command>`): the first word that is
 * not a flag, since the global flags take no value.
 */
export function commandNamed(argv: readonly string[]): CommandSummary | undefined {
  const words = argv.filter((arg) => !arg.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.find((summary) => summary.name === name);
}

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function runCli(argv: string[], streams: CliStreams): Promise<number> {
  const rt = new CliRuntime(streams);
  const program = await buildProgram(rt, commandNamed(argv));
  if (argv.length === 0) {
    rt.print(BANNER);
    program.outputHelp();
    return 0;
  }
  if (argv[0] === "--version") {
    rt.print(VERSION);
    return 0;
  }
  rt.flags = { debug: argv.includes("--debug"), quiet: argv.includes("--quiet") };
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    return reportError(err, rt, program);
  } finally {
    rt.close();
  }
}

/** Exit status of a usage error, as argparse (and so the original) gives it. */
const USAGE_EXIT = 2;

function reportError(err: unknown, rt: CliRuntime, program: Command): number {
  if (err instanceof CommanderError) {
    const ok = ["commander.helpDisplayed", "commander.help", "commander.version"].includes(err.code);
    if (ok) return 0;
    // Commander printed the ERROR line; like argparse, add the usage and exit 2.
    if (err.code === "commander.unknownCommand") rt.stderr.write(`${usageLine(program)}\n`);
    return USAGE_EXIT;
  }
  if (err instanceof SregistryError) {
    writeError(rt, `ERROR ${err.message}`);
    if (rt.flags.debug && err.cause) writeError(rt, `DEBUG cause: ${describe(err.cause)}`);
    return err.exitCode;
  }
  writeError(rt, `ERROR ${describe(err).split("\n")[0]}`);
  if (rt.flags.debug && err instanceof Error && err.stack) writeError(rt, err.stack, true);
  return 1;
}

/** An error on stderr: secrets masked, control characters from the network escaped, one line. */
function writeError(rt: CliRuntime, text: string, multiline = false): void {
  rt.stderr.write(sanitizeForTerminal(redact(text), { multiline }) + "\n");
}

/** `usage: sregistry [--debug] [--quiet] [--version] {version,backend,…} ...`, argparse style. */
function usageLine(program: Command): string {
  const names = program.commands.map((command) => command.name()).join(",");
  return `usage: sregistry [--debug] [--quiet] [--version] {${names}} ...`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}
