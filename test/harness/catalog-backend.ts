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
import { existsSync } from "node:fs";
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
  if (isPostgres(database)) {
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
  if (!isPostgres(database)) return `sqlite:///${join(database, "sregistry.db")}`;
  const url = new URL(database);
  if (url.password) url.password = "***";
  return url.toString();
}

/**
 * The `container` rows of the catalog a CLI run with `env` uses, read from outside the program,
 * as JSON objects (`sqlite3 -json`; `json_agg` in PostgreSQL); [] when there is no catalog yet.
 *
 * @example
 * ```ts
 * const [row] = containerRows(env); // row.image, row.version, JSON.parse(row.metrics)
 * ```
 */
export function containerRows(env: Record<string, string>): Record<string, string>[] {
  const database = env.SREGISTRY_DATABASE ?? "";
  if (isPostgres(database)) {
    const out = sqlOutside(env, "SELECT coalesce(json_agg(c ORDER BY id), '[]') FROM container c");
    return JSON.parse(out) as Record<string, string>[];
  }
  const db = join(database, "sregistry.db");
  if (!existsSync(db)) return [];
  const out = execFileSync("sqlite3", ["-json", db, "SELECT * FROM container ORDER BY id"], {
    encoding: "utf8",
  });
  return out.trim() ? (JSON.parse(out) as Record<string, string>[]) : [];
}

function isPostgres(database: string): boolean {
  return /^postgres(ql)?:\/\//.test(database);
}
