/**
 * The per-command context: settings resolved once, the logger, the secrets file and a lazily
 * opened catalog. Every API function takes one; `Sregistry` (api/sregistry.ts) owns one.
 *
 * @example
 * ```ts
 * const ctx = new Context({ env: process.env });
 * const rows = await ctx.catalog().listContainers();
 * ctx.close();
 * ```
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { connectCatalog } from "../catalog/connect.js";
import { redactDatabaseUrl } from "../catalog/postgres-url.js";
import type { Catalog } from "../catalog/catalog.js";
import { readSecrets, type SecretsFile } from "../config/secrets.js";
import { loadSettings } from "../config/settings.js";
import type { Settings } from "../config/types.js";
import { buildDirectory, removeStaleBuildsSync } from "../pull/temp-files.js";
import { SregistryError } from "../util/errors.js";
import { Logger, silentLogger } from "../util/log.js";

export interface ContextOptions {
  /** Environment to read settings from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where messages go; the library default prints nothing. */
  logger?: Logger;
  /** Overrides the home directory (tests). */
  home?: string;
}

export class Context {
  readonly env: NodeJS.ProcessEnv;
  readonly settings: Settings;
  readonly logger: Logger;
  private cachedSecrets: SecretsFile | undefined;
  private openedCatalog: Catalog | undefined;

  constructor(options: ContextOptions = {}) {
    this.env = options.env ?? process.env;
    this.logger = options.logger ?? silentLogger;
    this.settings = loadSettings(this.env, options.home === undefined ? {} : { home: options.home });
    // Whatever command runs next removes what a killed pull left in the build directory.
    removeStaleBuildsSync(buildDirectory(this.settings.storageDir));
  }

  /** The secrets file as read at first use (missing file = `{}`). */
  secrets(): SecretsFile {
    this.cachedSecrets ??= readSecrets(this.settings.clientSecretsPath);
    return this.cachedSecrets;
  }

  /** Forgets the cached secrets after a command wrote the file. */
  invalidateSecrets(): void {
    this.cachedSecrets = undefined;
  }

  /** True when the catalog and storage are in use (SREGISTRY_DISABLE not set). */
  get catalogEnabled(): boolean {
    return !this.settings.disableDatabase;
  }

  /** The catalog, opened on first use; an error when SREGISTRY_DISABLE is set. */
  catalog(): Catalog {
    if (this.settings.disableDatabase) {
      throw new SregistryError("this command requires the sqlite database, but SREGISTRY_DISABLE is set", {
        code: "NO_DATABASE",
      });
    }
    if (!this.openedCatalog) {
      if (this.settings.databaseUrl === undefined) this.ensureDatabaseFolder();
      this.openedCatalog = connectCatalog(this.settings, this.env);
      this.debugLocations();
      const backend = this.openedCatalog.backend();
      this.logger.debug(`catalog ${backend.location}: ${backend.description}`);
    }
    return this.openedCatalog;
  }

  /**
   * A missing catalog folder is created, private to the user (0700). The original stopped with
   * "Database location … does not exist."; creating it lets a fresh account, a job's scratch folder
   * or a test harness point SREGISTRY_DATABASE at a new folder without a separate mkdir, and
   * `--debug` names the folder used, for the case of a mistyped path.
   */
  private ensureDatabaseFolder(): void {
    const dir = dirname(this.settings.databasePath);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The original's `--debug` answer to "which catalog am I using?" (paths only, never secrets). */
  private debugLocations(): void {
    this.logger.debug(`Database located at ${this.databaseUrl()}`);
    this.logger.debug(`Storage folder ${this.settings.storageDir}`);
    this.logger.debug(
      `Secrets file ${this.settings.clientSecretsPath}, client ${this.settings.defaultClient}`,
    );
  }

  /** `sqlite:///<abs path>` as the original prints it in its announcement line; a PostgreSQL URL without its password. */
  databaseUrl(): string {
    if (this.settings.disableDatabase) return "dummy";
    if (this.settings.databaseUrl !== undefined) return redactDatabaseUrl(this.settings.databaseUrl);
    return `sqlite:///${this.settings.databasePath}`;
  }

  /** Closes the catalog; a PostgreSQL pool finishes closing in the background (its idle connections never hold the process). */
  close(): void {
    void this.openedCatalog?.close().catch(() => undefined);
    this.openedCatalog = undefined;
  }
}
