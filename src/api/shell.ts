/**
 * `shell`: an interactive Node REPL with the library loaded — the original's Python shell with
 * `client` in scope, here with:
 * - `client`: an `Sregistry` for the chosen backend (`shell nvidia` = SREGISTRY_CLIENT=nvidia);
 * - `catalog`: the client's catalog (opened on first use);
 * - `Sregistry`: the class, to make other clients.
 * Top-level `await` works (`await client.record("nvidia://caffe2:17.10")`), Tab completes the
 * client's methods, and history is kept in `~/.sregistry_history` (mode 0600) on a terminal.
 * The announcement line `[client|…] [database|…]` is printed first, unless `quiet`.
 * Input and output streams are parameters, so the shell can be driven by a pipe (tests, scripts).
 *
 * @example
 * ```ts
 * await shell(ctx, { backend: "nvidia" }); // returns when the user types .exit or Ctrl-D
 * ```
 */
import { chmodSync, closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { start, type REPLEval, type REPLServer } from "node:repl";
import { PassThrough } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import { resolveClientName } from "../config/backend.js";
import type { Context } from "./context.js";
import { Sregistry } from "./sregistry.js";

export interface ShellOptions {
  /** Client name for `client` (sets SREGISTRY_CLIENT); default the current default client. */
  backend?: string;
  /** Default process.stdin. */
  input?: NodeJS.ReadableStream;
  /** Default process.stdout. */
  output?: NodeJS.WritableStream;
  /** Line editing, colours and history; default: whether `output` is a TTY. */
  terminal?: boolean;
  /** History file; default `~/.sregistry_history`; null for none. Used only on a terminal. */
  historyPath?: string | null;
  /** Do not print the announcement line. */
  quiet?: boolean;
  /** Prompt; default `sregistry> `. */
  prompt?: string;
}

export const HISTORY_FILE = ".sregistry_history";

/** Runs the REPL until it is closed (`.exit`, Ctrl-D, end of input). */
export async function shell(ctx: Context, options: ShellOptions = {}): Promise<void> {
  const client = shellClient(ctx, options.backend);
  const output = options.output ?? process.stdout;
  const terminal = options.terminal ?? Boolean((output as { isTTY?: boolean }).isTTY);
  try {
    if (!options.quiet) {
      const name = client.settings.defaultClient;
      output.write(`[client|${name}] [database|${client.context.databaseUrl()}]\n`);
    }
    const input = options.input ?? process.stdin;
    const piped = terminal ? undefined : new PassThrough();
    const server = start({
      prompt: options.prompt ?? "sregistry> ",
      input: piped ?? input,
      output,
      terminal,
      useGlobal: false,
      ignoreUndefined: true,
    });
    const closed = new Promise<void>((resolve) => server.once("exit", resolve));
    defineScope(server, client);
    if (piped) void feedLineByLine(server, input, piped);
    const history =
      options.historyPath === undefined ? join(ctx.settings.home, HISTORY_FILE) : options.historyPath;
    if (terminal && history !== null) await setupHistory(server, history);
    await closed;
  } finally {
    client.close();
  }
}

/**
 * Piped input reaches the REPL one line at a time, the next only once the previous one's
 * evaluation (top-level `await` included) has finished. Node's REPL holds back input during an
 * `await` only on a terminal (lib/repl.js buffers keystrokes, not `line` events), so a script
 * `await catalog.listContainers()` followed by `.exit` closed the shell, and the catalog, before
 * the query answered; its result was lost (a PostgreSQL query takes real I/O, SQLite's did not).
 */
async function feedLineByLine(
  server: REPLServer,
  source: NodeJS.ReadableStream,
  feed: PassThrough,
): Promise<void> {
  let pending = 0;
  let settled: (() => void) | undefined;
  const evaluate = server.eval;
  const tracked: REPLEval = function (this: REPLServer, code, context, file, done) {
    pending += 1;
    evaluate.call(this, code, context, file, (error, result) => {
      done(error, result);
      pending -= 1;
      if (pending === 0) settled?.();
    });
  };
  (server as { eval: REPLEval }).eval = tracked;
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  let open = true;
  server.once("exit", () => {
    open = false;
    lines.close();
  });
  for await (const line of lines) {
    if (!open) break;
    feed.write(`${line}\n`);
    await nextTurn(); // the REPL reads the line and starts evaluating it
    if (pending > 0) await new Promise<void>((resolve) => (settled = resolve));
  }
  feed.end();
}

/** The `client` of the shell: the context's settings with SREGISTRY_CLIENT set to the backend. */
function shellClient(ctx: Context, backend: string | undefined): Sregistry {
  const env = { ...ctx.env };
  // `shell nvidia` means `nvidia://`, as in the original; an unknown name is an error.
  if (backend !== undefined) env.SREGISTRY_CLIENT = resolveClientName(`${backend}://`, ctx.settings).client;
  return new Sregistry({ env, logger: ctx.logger, home: ctx.settings.home });
}

function defineScope(server: REPLServer, client: Sregistry): void {
  const scope = server.context;
  const constant = (name: string, value: unknown) =>
    Object.defineProperty(scope, name, { value, enumerable: true, configurable: false, writable: false });
  constant("client", client);
  constant("Sregistry", Sregistry);
  // A getter: the catalog opens on first use, so the shell starts even without a database.
  Object.defineProperty(scope, "catalog", { get: () => client.context.catalog(), enumerable: true });
}

/** Node's REPL history in `path`, which is created (or tightened) to mode 0600 first. */
async function setupHistory(server: REPLServer, path: string): Promise<void> {
  try {
    closeSync(openSync(path, "a", 0o600));
    chmodSync(path, 0o600);
  } catch {
    return; // No writable home: the shell works without history.
  }
  await new Promise<void>((resolve) => server.setupHistory(path, () => resolve()));
}
