/**
 * The CLI environment that points a run at one catalog engine of `forEachBackend`: nothing for
 * SQLite (the run keeps its `~/.singularity/sregistry.db`, as a user's would), a fresh database's
 * URL in `SREGISTRY_DATABASE` for PostgreSQL (the test file's own server, see postgres.ts).
 *
 * @example
 * ```ts
 * forEachBackend((backend) => {
 *   before(async () => (env = { ...dockerEnv(server), ...(await databaseEnv(backend)) }));
 * });
 * ```
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestBackend } from "../../src/catalog/backends.testing.js";

export async function databaseEnv(backend: TestBackend): Promise<Record<string, string>> {
  if (backend.name === "sqlite") return {};
  return { SREGISTRY_DATABASE: await backend.databaseSetting() };
}

/**
 * Runs `sql` on the catalog a CLI run with `env` uses, from outside the program (the `sqlite3` or
 * `psql` command); rows as `a|b` lines.
 *
 * @example
 * ```ts
 * sqlOutside(env, "SELECT name FROM collection"); // "lab\n"
 * ```
 */
export function sqlOutside(env: Record<string, string>, sql: string): string {
  const database = env.SREGISTRY_DATABASE ?? "";
  if (/^postgres(ql)?:\/\//.test(database)) {
    return execFileSync(
      "psql",
      [database, "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql],
      {
        encoding: "utf8",
      },
    );
  }
  return execFileSync("sqlite3", [join(database, "sregistry.db"), sql], { encoding: "utf8" });
}

/** The `[database|…]` part of the announcement line for a CLI run with `env`: the password masked. */
export function announcedDatabase(env: Record<string, string>): string {
  const database = env.SREGISTRY_DATABASE ?? "";
  if (!/^postgres(ql)?:\/\//.test(database)) return `sqlite:///${join(database, "sregistry.db")}`;
  const url = new URL(database);
  if (url.password) url.password = "***";
  return url.toString();
}
