/**
 * The message logger, with the original tool's levels and stream split.
 *
 * Levels (MESSAGELEVEL, by name or number): ABORT -5, CRITICAL -4, ERROR -3, WARNING -2, LOG -1,
 * QUIET 0, INFO 1, VERBOSE 2, VERBOSE2 3, VERBOSE3 4, DEBUG 5. A message prints when its level is
 * at or below the threshold, so QUIET hides INFO output but still shows errors and warnings.
 * ERROR, WARNING, VERBOSE and DEBUG go to stderr; INFO and LOG go to stdout. Every line passes
 * through `redact` so no secret is ever printed, then `sanitizeForTerminal` so no control character
 * from a registry or an image reaches the terminal: ERROR and WARNING lines stay one line (a newline
 * in the message shows as `\n`); the other levels keep `\n` and `\t` for tables and lists. A
 * `TerminalText` (already sanitised, possibly coloured) is only redacted.
 *
 * @example
 * ```ts
 * const log = new Logger({ level: parseMessageLevel(process.env.MESSAGELEVEL) });
 * log.info("[container][new] nvidia/caffe2:17.10");
 * log.error("image foo was not found in the database");
 * ```
 */
import { redact } from "./redact.js";
import { sanitizeForTerminal, TerminalText } from "./terminal.js";

export const LEVELS = {
  ABORT: -5,
  CRITICAL: -4,
  ERROR: -3,
  WARNING: -2,
  LOG: -1,
  QUIET: 0,
  INFO: 1,
  VERBOSE: 2,
  VERBOSE1: 2,
  VERBOSE2: 3,
  VERBOSE3: 4,
  DEBUG: 5,
} as const;

export type LevelName = keyof typeof LEVELS;

/** Parses MESSAGELEVEL: a level name (any case, any VERBOSE* spelling) or an integer; default INFO. */
export function parseMessageLevel(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return LEVELS.INFO;
  const text = value.trim().toUpperCase();
  if (/^-?\d+$/.test(text)) return Math.max(-5, Math.min(5, Number(text)));
  if (text.startsWith("VERBOSE")) return text in LEVELS ? LEVELS[text as LevelName] : LEVELS.VERBOSE3;
  if (text in LEVELS) return LEVELS[text as LevelName];
  return LEVELS.INFO;
}

/** A plain string (sanitised when printed) or text already made safe for the terminal. */
export type Message = string | TerminalText;

export interface Writer {
  write(text: string): unknown;
}

export interface LoggerOptions {
  level?: number;
  stdout?: Writer;
  stderr?: Writer;
}

export class Logger {
  level: number;
  readonly stdout: Writer;
  readonly stderr: Writer;

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? LEVELS.INFO;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
  }

  enabled(level: number): boolean {
    return level <= this.level;
  }

  private emit(level: number, stream: Writer, prefix: string, message: Message, multiline: boolean): void {
    if (!this.enabled(level)) return;
    const text =
      message instanceof TerminalText
        ? redact(prefix + message.text)
        : sanitizeForTerminal(redact(prefix + message), { multiline });
    stream.write(text + "\n");
  }

  error(message: Message): void {
    this.emit(LEVELS.ERROR, this.stderr, "ERROR ", message, false);
  }
  warning(message: Message): void {
    this.emit(LEVELS.WARNING, this.stderr, "WARNING ", message, false);
  }
  /** INFO: normal output on stdout (tables, `[container][new]`, `Success!`). */
  info(message: Message): void {
    this.emit(LEVELS.INFO, this.stdout, "", message, true);
  }
  log(message: Message): void {
    this.emit(LEVELS.LOG, this.stdout, "LOG ", message, true);
  }
  verbose(message: Message): void {
    this.emit(LEVELS.VERBOSE, this.stderr, "VERBOSE ", message, true);
  }
  debug(message: Message): void {
    this.emit(LEVELS.DEBUG, this.stderr, "DEBUG ", message, true);
  }
}

/** A logger that prints nothing; the library default so that API users get no output unless asked. */
export const silentLogger = new Logger({ level: LEVELS.ABORT - 1 });
