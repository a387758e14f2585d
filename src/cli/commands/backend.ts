/**
 * `sregistry backend <word> ...`: manage backend settings in the secrets file (api/backend-config.ts).
 * Outputs follow the original sregistry-cli word for word; credential values are shown as `***`
 * unless `--show-secrets`.
 */
import type { Command } from "commander";
import {
  activateBackend,
  addBackendSetting,
  backendStatus,
  deactivateBackend,
  deleteBackend,
  isSecretKey,
  listBackends,
  maskSecrets,
  MASK,
  removeBackendSetting,
  showBackend,
} from "../../api/backend-config.js";
import { catalogStorageInfo } from "../../api/catalog-storage.js";
import { SregistryError } from "../../util/errors.js";
import type { CliRuntime } from "../runtime.js";

interface BackendFlags {
  force?: boolean;
  json?: boolean;
  showSecrets?: boolean;
}

const USAGE = `Usage:
  sregistry backend ls                          list backends in the secrets file
  sregistry backend ls <backend>                show one backend's settings
  sregistry backend status                      how many backends, which one is active
  sregistry backend activate <backend>          make <backend> the default client
  sregistry backend deactivate                  no default client (hub)
  sregistry backend add <backend> <var> <value> set SREGISTRY_<BACKEND>_<VAR> (--force to replace)
  sregistry backend remove <backend> <var>      unset a variable (alias: rm)
  sregistry backend delete <backend>            remove a backend and all its settings`;

export function registerBackend(program: Command, rt: CliRuntime): void {
  program
    .command("backend")
    .description("list, activate and configure backends (clients) in the secrets file")
    .argument(
      "[words...]",
      "ls | status | activate | deactivate | add | remove | rm | delete, then its arguments",
    )
    .option("-f, --force", "with add: replace a variable that is already set")
    .option("--show-secrets", "print tokens and passwords instead of ***")
    .option("--json", "print ls and status results as JSON")
    .addHelpText(
      "after",
      `\n${USAGE}\n\nExamples:\n  sregistry backend add nvidia token nvapi-xxxx\n  sregistry backend activate nvidia`,
    )
    .action((words: string[], flags: BackendFlags) => runBackend(rt, words, flags));
}

function runBackend(rt: CliRuntime, words: string[], flags: BackendFlags): void {
  const [word, ...args] = words;
  if (word === undefined) {
    rt.print(USAGE);
    throw new SregistryError("You must provide a valid command", { code: "USAGE" });
  }
  const handler = HANDLERS[word];
  if (!handler) throw new SregistryError(`${word} is not a recognized command.`, { code: "USAGE" });
  handler(rt, args, flags);
}

type Handler = (rt: CliRuntime, args: string[], flags: BackendFlags) => void;

const HANDLERS: Record<string, Handler> = {
  ls: list,
  status,
  activate,
  deactivate,
  add,
  remove,
  rm: remove,
  delete: deleteOne,
};

function list(rt: CliRuntime, [name]: string[], flags: BackendFlags): void {
  const ctx = rt.context();
  if (name === undefined) {
    const names = listBackends(ctx);
    if (flags.json) return rt.printJson(names);
    rt.print("Backends Installed");
    for (const backend of names) rt.print(backend);
    return;
  }
  const settings = showBackend(ctx, name);
  if (settings === undefined) {
    if (flags.json) throw new SregistryError(`${name} is not a known client.`, { code: "NOT_FOUND" });
    rt.print(`${name} is not a known client.`);
    return list(rt, [], flags);
  }
  const shown = flags.showSecrets ? settings : maskSecrets(settings);
  if (flags.json) return rt.printJson(shown);
  rt.print(name);
  rt.print(JSON.stringify(sortKeys(shown), null, 4));
}

function status(rt: CliRuntime, _args: string[], flags: BackendFlags): void {
  const result = backendStatus(rt.context());
  const catalog = catalogStorageInfo(rt.context());
  if (flags.json) {
    const storage = catalog && {
      backend: catalog.backend,
      path: catalog.path,
      journal: catalog.journal,
      filesystem: catalog.filesystem,
    };
    return rt.printJson({
      count: result.count,
      active: result.active ?? null,
      path: result.path,
      catalog: storage ?? null,
    });
  }
  rt.print("[backend status]");
  rt.print(
    result.count === 1
      ? "There is 1 client found in secrets."
      : `There are ${result.count} clients found in secrets.`,
  );
  rt.print(result.active === undefined ? "There is no active client." : `active: ${result.active}`);
  if (catalog) rt.print(`catalog: ${catalog.path}, ${catalog.description}`);
}

function activate(rt: CliRuntime, [name]: string[]): void {
  if (name === undefined) throw usage("activate <backend>");
  rt.print(`[activate] ${activateBackend(rt.context(), name)}`);
}

function deactivate(rt: CliRuntime): void {
  rt.print(deactivateBackend(rt.context()) === undefined ? "There is no active client" : "[deactivated]");
}

function add(rt: CliRuntime, [name, variable, value]: string[], flags: BackendFlags): void {
  if (name === undefined || variable === undefined || value === undefined) {
    throw usage("add <backend> <variable> <value>");
  }
  const change = addBackendSetting(rt.context(), name, variable, value, { force: Boolean(flags.force) });
  rt.print("[add]");
  rt.print(`${change.key} ${isSecretKey(change.key) && !flags.showSecrets ? MASK : change.value}`);
}

function remove(rt: CliRuntime, [name, variable]: string[]): void {
  if (name === undefined || variable === undefined) throw usage("remove <backend> <variable>");
  const result = removeBackendSetting(rt.context(), name, variable);
  rt.print("[remove]");
  rt.print(result.key);
  if (!result.removed) rt.logger.warning(`${result.key} was not set for ${result.backend}`);
}

function deleteOne(rt: CliRuntime, [name]: string[]): void {
  if (name === undefined) return rt.print("Please specify a backend to delete.");
  rt.print(deleteBackend(rt.context(), name) ? `[delete] ${name}` : `${name} is not a known client.`);
}

function usage(words: string): SregistryError {
  return new SregistryError(`Usage: sregistry backend ${words}`, { code: "USAGE" });
}

/** The original printed settings with sorted keys. */
function sortKeys(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
