/**
 * Start-up: a command imports only what it needs (ARCHITECTURE.md, "Start-up"). The CLI runs in a
 * child process with a module loader hook (https://nodejs.org/api/module.html#customization-hooks)
 * that lists every module loaded; no timing is asserted.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "sregistry-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const HOOKS = `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.MODULE_LOG, url + "\\n");
  return next(url, context);
}
`;
writeFileSync(join(dir, "hooks.mjs"), HOOKS);
// CommonJS modules a package requires internally (and ones loaded with createRequire) never pass
// the ESM hook; the require cache at exit lists them.
writeFileSync(
  join(dir, "cjs-exit.cjs"),
  `process.on("exit", () => require("node:fs").appendFileSync(process.env.MODULE_LOG, Object.keys(require.cache).map((f) => "file://" + f + "\\n").join("")));\n`,
);
writeFileSync(
  join(dir, "register.mjs"),
  `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`,
);

const MAIN = new URL("./main.ts", import.meta.url);
let runs = 0;

/** The URLs of the modules `sregistry <args>` loads, with an empty home folder. */
function modulesLoadedBy(args: string[]): string[] {
  const log = join(dir, `modules-${++runs}.log`);
  const home = mkdtempSync(join(dir, "home-"));
  const run = spawnSync(
    process.execPath,
    [
      "--require",
      join(dir, "cjs-exit.cjs"),
      "--import",
      "tsx",
      "--import",
      pathToFileURL(join(dir, "register.mjs")).href,
      MAIN.pathname,
      ...args,
    ],
    { env: { PATH: process.env.PATH, HOME: home, MODULE_LOG: log }, encoding: "utf8", timeout: 60_000 },
  );
  assert.ok(run.status === 0 || run.status === 1, `sregistry ${args.join(" ")}: ${run.stderr}`);
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

/** Modules a pull needs and a catalog lookup does not: the network, compression, images. */
const PULL_ONLY = [
  /\/node_modules\/(tldts|tldts-core|ipaddr\.js)\//,
  /\/src\/(registry|image|push|pull\/(?!temp-files)|pyxis)\b/,
  /\/src\/api\/(pull|oras|search|record)\.ts$/,
  /^node:(zlib|http|https|http2|net|tls|dns|worker_threads|child_process)$/,
];
/** What only a command that reads the catalog or the settings needs. */
const CATALOG = [/\/node_modules\/better-sqlite3\//, /\/src\/(api|catalog|config|cache)\//];
/**
 * What an SQLite catalog does not need: the PostgreSQL driver, and the `bindings` package's search
 * for better-sqlite3's addon (database.ts hands the driver its path).
 */
const NOT_FOR_SQLITE = [/\/node_modules\/(pg|pg-[a-z-]+|pgpass|bindings|file-uri-to-path)\//];

function heavy(modules: string[], patterns: RegExp[]): string[] {
  return modules.filter((url) => patterns.some((pattern) => pattern.test(url)));
}

describe("start-up: modules a command loads", () => {
  it("version and --help load neither the catalog nor the pull", () => {
    for (const args of [["version"], ["--help"]]) {
      const modules = modulesLoadedBy(args);
      assert.ok(
        modules.some((url) => url.endsWith("/src/cli/main.ts")),
        "the hook saw the CLI load",
      );
      assert.deepEqual(heavy(modules, [...PULL_ONLY, ...CATALOG]), [], args.join(" "));
    }
  });

  it("images and get open the catalog without loading the pull", () => {
    for (const args of [["images"], ["get", "library/none:latest"]]) {
      const modules = modulesLoadedBy(args);
      assert.ok(
        modules.some((url) => url.includes("/src/catalog/")),
        `${args[0]} read the catalog`,
      );
      assert.deepEqual(heavy(modules, PULL_ONLY), [], args.join(" "));
      assert.ok(
        modules.some((url) => url.includes("/node_modules/better-sqlite3/")),
        "the require cache is listed",
      );
      assert.deepEqual(heavy(modules, NOT_FOR_SQLITE), [], `${args.join(" ")} on an SQLite catalog`);
    }
  });
});
