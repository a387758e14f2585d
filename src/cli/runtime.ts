/**
 * What every command handler gets: the output streams, the global flags, a lazily built API
 * context, and the original's announcement line.
 *
 * @example
 * ```ts
 * const rt = new CliRuntime({ env: process.env, stdout: process.stdout, stderr: process.stderr });
 * rt.announce("nvidia"); // "[client|nvidia] [database|sqlite:////root/.singularity/sregistry.db]"
 * ```
 */
import type { Context } from "../api/context.js";
import { Logger, LEVELS, parseMessageLevel, type Message, type Writer } from "../util/log.js";
import { jsonForTerminal, sanitizeForTerminal, TerminalText } from "../util/terminal.js";

export interface CliStreams {
  env: NodeJS.ProcessEnv;
  stdout: Writer & { isTTY?: boolean };
  stderr: Writer & { isTTY?: boolean };
}

export interface GlobalFlags {
  debug: boolean;
  quiet: boolean;
}

export class CliRuntime {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: CliStreams["stdout"];
  readonly stderr: CliStreams["stderr"];
  flags: GlobalFlags = { debug: false, quiet: false };
  private ctx: Context | undefined;
  private contextModule: typeof import("../api/context.js") | undefined;
  private loggerInstance: Logger | undefined;

  constructor(streams: CliStreams) {
    this.env = streams.env;
    this.stdout = streams.stdout;
    this.stderr = streams.stderr;
  }

  /** The logger: MESSAGELEVEL, raised to DEBUG by `--debug`. */
  get logger(): Logger {
    this.loggerInstance ??= new Logger({
      level: this.flags.debug ? LEVELS.DEBUG : parseMessageLevel(this.env.MESSAGELEVEL),
      stdout: this.stdout,
      stderr: this.stderr,
    });
    return this.loggerInstance;
  }

  /**
   * Loads the module behind `context()`. It is imported on demand, not at the top of this file:
   * it brings the catalog (better-sqlite3) and the settings, which `version` and `--help` do not
   * need (ARCHITECTURE.md, "Start-up"). program.ts awaits this before a command that uses it runs.
   */
  async loadContext(): Promise<void> {
    this.contextModule ??= await import("../api/context.js");
  }

  /** The settings, the logger and the catalog, built at first use (after `loadContext()`). */
  context(): Context {
    if (!this.contextModule) throw new Error("CliRuntime.context() called before loadContext()");
    this.ctx ??= new this.contextModule.Context({ env: this.env, logger: this.logger });
    return this.ctx;
  }

  /**
   * Plain stdout text (not through the logger, like the original's print()). Control characters
   * are escaped except `\n` and `\t`; a value that must stay on one line (a label, a path from the
   * catalog) goes through `sanitizeForTerminal` first, or use `printValue`.
   */
  print(text: Message): void {
    const shown = text instanceof TerminalText ? text.text : sanitizeForTerminal(text, { multiline: true });
    this.stdout.write(shown + "\n");
  }

  /** One line built from data (a path, a uri, a label): every control character escaped. */
  printValue(text: string): void {
    this.stdout.write(sanitizeForTerminal(text) + "\n");
  }

  /** JSON on stdout, with DEL, C1 and bidi controls escaped too (JSON.stringify leaves them raw). */
  printJson(value: unknown): void {
    this.stdout.write(jsonForTerminal(value) + "\n");
  }

  /** `[client|NAME] [database|URL]` on stdout, unless --quiet. */
  announce(clientName: string): void {
    if (this.flags.quiet) return;
    this.logger.info(`[client|${clientName}] [database|${this.context().databaseUrl()}]`);
  }

  /** Colour only on a terminal, unless SINGULARITY_COLORIZE says otherwise. */
  get color(): boolean {
    const forced = this.env.SINGULARITY_COLORIZE?.toLowerCase();
    if (forced && ["yes", "true", "t", "1", "y"].includes(forced)) return true;
    if (forced && ["no", "false", "f", "0", "n"].includes(forced)) return false;
    return Boolean(this.stdout.isTTY);
  }

  close(): void {
    this.ctx?.close();
  }
}
