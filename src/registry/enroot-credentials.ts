/**
 * A `Keychain` over enroot's credentials file, `$ENROOT_CONFIG_PATH/.credentials` (default
 * `${XDG_CONFIG_HOME:-~/.config}/enroot/.credentials`), so that a cluster set up for enroot and
 * Pyxis needs no second copy of its registry keys. Consulted after sregistry's own settings and
 * before Docker's config.json (api/backend.ts).
 *
 * Matching follows enroot (src/docker.sh): the `machine` is the registry host without its port
 * (`host:port` also matches), Docker Hub under any of its names; the first entry for the machine
 * wins, or the first with the login named by the reference's `USER@`.
 *
 * Passwords starting with `$`: enroot runs `echo <password>` in a shell. Here a plain `$NAME` /
 * `${NAME}` is read from the environment without a shell; anything else (`$(aws ecr
 * get-login-password)`) is a command, run with `/bin/sh -c` only when the user opted in with
 * SREGISTRY_ENROOT_EVAL=yes. Without the opt-in such a line is skipped with a warning that says
 * so — a credentials file must not become a way to run code the user did not ask for. Lines that
 * are not entries are skipped with a warning giving the line number only.
 *
 * @example
 * ```ts
 * const keychain = enrootKeychain({ path: defaultEnrootCredentialsPath(process.env), env: process.env,
 *   evaluate: false, logger });
 * await keychain.resolve("nvcr.io"); // { username: "$oauthtoken", password: "nvapi-…" }
 * ```
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseEnrootCredentials, type EnrootEntry } from "../config/enroot-netrc.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { registerCredentials, type Credentials, type Keychain } from "./credentials.js";
import { isDockerHub } from "../reference/grammar.js";

export interface EnrootKeychainOptions {
  /** The credentials file. */
  path: string;
  /** Where `$NAME` passwords are looked up (and the environment of an opted-in command). */
  env: NodeJS.ProcessEnv;
  /** SREGISTRY_ENROOT_EVAL: run `$(…)` passwords with /bin/sh as enroot does. */
  evaluate: boolean;
  /** Only entries with this login (the reference's `USER@`). */
  login?: string;
  logger: Logger;
}

const COMMAND_TIMEOUT_MS = 60_000;

/** `$ENROOT_CONFIG_PATH/.credentials`, else `${XDG_CONFIG_HOME:-$HOME/.config}/enroot/.credentials`. */
export function defaultEnrootCredentialsPath(env: NodeJS.ProcessEnv): string {
  if (env.ENROOT_CONFIG_PATH) return join(env.ENROOT_CONFIG_PATH, ".credentials");
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(config, "enroot", ".credentials");
}

export function enrootKeychain(options: EnrootKeychainOptions): Keychain {
  let loaded: Promise<EnrootEntry[]> | undefined;
  const evaluated = new Map<number, Promise<string | undefined>>();
  return {
    async resolve(registry) {
      loaded ??= loadEntries(options);
      for (const entry of (await loaded).filter((e) => matches(e, registry, options.login))) {
        let password = evaluated.get(entry.line);
        if (!password) evaluated.set(entry.line, (password = passwordOf(entry, options)));
        const value = await password;
        if (value === undefined || value === "") continue;
        const creds = { username: entry.login, password: value };
        registerCredentials(creds);
        return creds satisfies Credentials;
      }
      return undefined;
    },
  };
}

/**
 * For a reference with enroot's `USER@`: the first keychain whose credentials have that login;
 * none is an error saying how to add them (enroot would prompt for a password; we cannot).
 */
export function loginKeychain(keychains: Keychain[], login: string, hint: string): Keychain {
  return {
    async resolve(registry) {
      for (const keychain of keychains) {
        const creds = await keychain.resolve(registry);
        if (creds?.username === login) return creds;
      }
      throw new SregistryError(`no credentials for user ${login} on ${registry}: ${hint}`, {
        code: "CREDENTIALS",
      });
    },
  };
}

async function loadEntries(options: EnrootKeychainOptions): Promise<EnrootEntry[]> {
  let text: string;
  try {
    text = await readFile(options.path, "utf8");
  } catch (err) {
    if (isErrnoCode(err, "ENOENT") || isErrnoCode(err, "ENOTDIR")) return [];
    throw new SregistryError(`cannot read enroot credentials ${options.path}: ${(err as Error).message}`, {
      code: "CREDENTIALS",
    });
  }
  const { entries, problems } = parseEnrootCredentials(text);
  for (const problem of problems) {
    options.logger.warning(`skipping line ${problem.line} of ${options.path}: ${problem.reason}`);
  }
  return entries;
}

/** enroot compares the machine with the registry host without its port; Docker Hub has three names. */
function matches(entry: EnrootEntry, registry: string, login: string | undefined): boolean {
  if (login !== undefined && entry.login !== login) return false;
  const host = registry.toLowerCase();
  if (entry.machine === host || entry.machine === host.replace(/:\d+$/, "")) return true;
  return isDockerHub(host) && isDockerHub(entry.machine);
}

async function passwordOf(entry: EnrootEntry, options: EnrootKeychainOptions): Promise<string | undefined> {
  const where = `line ${entry.line} of ${options.path} (machine ${entry.machine})`;
  const password = entry.password;
  if (password.kind === "literal") return password.value;
  if (password.kind === "variable") {
    const value = options.env[password.name];
    if (value === undefined || value === "") {
      options.logger.warning(
        `skipping ${where}: its password $${password.name} is not set in the environment`,
      );
    }
    return value;
  }
  if (!options.evaluate) {
    options.logger.warning(
      `skipping ${where}: its password is a shell command, which sregistry runs only with ` +
        "SREGISTRY_ENROOT_EVAL=yes",
    );
    return undefined;
  }
  try {
    const value = await runPasswordCommand(password.text, options.env);
    if (value === "") options.logger.warning(`skipping ${where}: its password command printed nothing`);
    return value;
  } catch (err) {
    options.logger.warning(`skipping ${where}: its password command failed (${(err as Error).message})`);
    return undefined;
  }
}

/** `echo <text>` through /bin/sh, as enroot's common::evalnetrc does; stdout minus the newline. */
function runPasswordCommand(text: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", `echo ${text}`], { env, stdio: ["ignore", "pipe", "ignore"] });
    const out: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0)
        resolve(
          Buffer.concat(out)
            .toString("utf8")
            .replace(/\r?\n$/, ""),
        );
      else reject(new Error(signal ? `killed by ${signal}` : `exit status ${code}`));
    });
  });
}
