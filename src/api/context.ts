/**
 * The per-command context: settings resolved once, the logger, the secrets file and a lazily
 * opened catalog. Every API function takes one; `Sregistry` (api/sregistry.ts) owns one.
 *
 * @example
 * ```ts
 * const ctx = new Context({ env: process.env });
 * const rows = ctx.catalog().listContainers();
 * ctx.close();
 * ```
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { describeCatalogStorage } from "../catalog/catalog-storage.js";
import { catalogStorageOf, openCatalog } from "../catalog/database.js";
import type { Catalog } from "../catalog/catalog.js";
import { readSecrets, type SecretsFile } from "../config/secrets.js";
import { loadSettings } from "../config/settings.js";
import type { Settings } from "../config/types.js";
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
      const dir = dirname(this.settings.databasePath);
      // Unlike the original (which stops with "Database location ... does not exist."), the
      // folder is created, private to the user, like the rest of what a pull writes.
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.openedCatalog = openCatalog(this.settings.databasePath);
      const storage = catalogStorageOf(this.openedCatalog);
      if (storage)
        this.logger.debug(`catalog ${this.settings.databasePath}: ${describeCatalogStorage(storage)}`);
    }
    return this.openedCatalog;
  }

  /** `sqlite:///<abs path>` as the original prints it in its announcement line. */
  databaseUrl(): string {
    return this.settings.disableDatabase ? "dummy" : `sqlite:///${this.settings.databasePath}`;
  }

  close(): void {
    this.openedCatalog?.close();
    this.openedCatalog = undefined;
  }
}
