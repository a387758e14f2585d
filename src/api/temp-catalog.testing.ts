/**
 * Test support: a throw-away catalog and storage in a temp dir, with a Context pointed at them,
 * and a helper that adds a small image file. Used by the api/*.test.ts files.
 *
 * @example
 * ```ts
 * let t: TempCatalog;
 * beforeEach(() => (t = tempCatalog("sregistry-rm-")));
 * afterEach(() => t.dispose());
 * const one = await t.added("col/img:1", "one");
 * ```
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tinySif } from "../image/sif/tiny-sif.testing.js";
import { add, type AddResult } from "./add.js";
import { Context } from "./context.js";

export interface TempCatalog {
  dir: string;
  storage: string;
  ctx: Context;
  /** Writes `<dir>/<content>.sif`, a tiny SIF holding `content`, and adds it under `name`. */
  added(name: string, content: string): Promise<AddResult>;
  dispose(): void;
}

/** A temp catalog; `database` is a SREGISTRY_DATABASE value (default: a folder in the temp dir). */
export function tempCatalog(prefix: string, database?: string): TempCatalog {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const storage = join(dir, "shub");
  mkdirSync(join(dir, "db"));
  const ctx = new Context({
    env: {
      SREGISTRY_DATABASE: database ?? join(dir, "db"),
      SREGISTRY_STORAGE: storage,
      SREGISTRY_CLIENT_SECRETS: join(dir, "s"),
    },
    home: dir,
  });
  return {
    dir,
    storage,
    ctx,
    added(name, content) {
      const file = join(dir, `${content}.sif`);
      writeFileSync(file, tinySif(content));
      return add(ctx, file, { name });
    },
    dispose() {
      ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
