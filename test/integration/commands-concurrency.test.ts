/**
 * Two processes adding and removing images at once through the library (50 operations each, in
 * the same collection folders): afterwards the catalog and storage agree exactly — every row's
 * file exists, every file has a row, no staging/tombstone files, no empty folders, no lost rows,
 * and neither process saw "database is locked".
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../harness/cli.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { Context } from "../../src/api/context.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

const OPERATIONS = 50;
const dirs: TmpDir[] = [];
after(() => Promise.all(dirs.map((d) => d.cleanup())));

// Each worker: op i adds `race/img:t<i%5>` (content unique to the worker) from its own folder;
// every third op removes the worker's add from two ops earlier. Prints the uris it left behind.
// Both start their first operation at the same moment: each says "ready" and waits for "go".
const WORKER = `
const { Sregistry } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "src/api/sregistry.ts")).href)});
const { tinySif } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "src/image/sif/tiny-sif.testing.ts")).href)});
const { writeFileSync, mkdirSync } = await import("node:fs");
const { join } = await import("node:path");
const [id, work, ops] = process.argv.slice(2);
const client = new Sregistry({ env: process.env });
mkdirSync(work, { recursive: true });
// Barrier: report ready (modules loaded, the slow part of starting), then wait for the word to go.
process.stdout.write("ready\\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.destroy();
const kept = [];
for (let i = 0; i < Number(ops); i++) {
  if (i % 3 === 2) {
    const uri = kept.splice(kept.length - 2, 1)[0];
    await client.rm(uri);
  } else {
    const file = join(work, id + "-" + i + ".sif");
    writeFileSync(file, tinySif("image " + id + " " + i));
    const result = await client.add(file, { name: "race/img:t" + (i % 5) });
    kept.push(result.uri);
  }
}
client.close();
process.stdout.write(JSON.stringify(kept));
`;

interface Worker {
  /** Settles when the worker has loaded and waits for `go`. */
  ready: Promise<void>;
  go(): void;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

function startWorker(script: string, id: string, work: string, env: NodeJS.ProcessEnv): Worker {
  const child = spawn(process.execPath, ["--import", "tsx", script, id, work, String(OPERATIONS)], {
    cwd: REPO_ROOT,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString();
    if (stdout.startsWith("ready\n")) signalReady();
  });
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      signalReady(); // a worker that died before the barrier must not hold the other one
      resolve({ code: code ?? 128, stdout: stdout.replace(/^ready\n/, ""), stderr });
    });
  });
  return { ready, go: () => child.stdin.end("go\n"), done };
}

/** Starts both workers and lets them begin together once both are loaded. */
async function runTogether(a: Worker, b: Worker) {
  await Promise.all([a.ready, b.ready]);
  a.go();
  b.go();
  return Promise.all([a.done, b.done]);
}

/** Every file and folder under `root` (relative), hidden ones included. */
function tree(root: string): { files: string[]; dirs: string[] } {
  const entries = existsSync(root) ? readdirSync(root, { recursive: true, withFileTypes: true }) : [];
  const rel = (e: { parentPath: string; name: string }) => join(e.parentPath, e.name).slice(root.length + 1);
  return {
    files: entries
      .filter((e) => e.isFile())
      .map(rel)
      .sort(),
    dirs: entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name)),
  };
}

forEachBackend((backend) => {
  test(
    "two processes adding and removing at once leave catalog and storage consistent",
    { timeout: 120_000 },
    async () => {
      const base = await tmpDir("sregistry-race-");
      dirs.push(base);
      const storage = join(base.path, "shub");
      mkdirSync(join(base.path, "db"));
      const script = join(base.path, "worker.mjs");
      writeFileSync(script, WORKER);
      const env = {
        PATH: process.env.PATH ?? "",
        SREGISTRY_DATABASE:
          backend.name === "sqlite" ? join(base.path, "db") : await backend.databaseSetting(),
        SREGISTRY_STORAGE: storage,
        SREGISTRY_CLIENT_SECRETS: join(base.path, "secrets"),
        TMPDIR: base.path,
      };
      const [a, b] = await runTogether(
        startWorker(script, "a", join(base.path, "work-a"), env),
        startWorker(script, "b", join(base.path, "work-b"), env),
      );
      for (const result of [a, b]) {
        assert.equal(result.code, 0, result.stderr);
        assert.doesNotMatch(result.stderr, /locked|busy/i);
      }
      const expected = [...(JSON.parse(a.stdout) as string[]), ...(JSON.parse(b.stdout) as string[])].sort();
      assert.equal(
        expected.length,
        2 * (OPERATIONS - Math.floor(OPERATIONS / 3)) - 2 * Math.floor(OPERATIONS / 3),
      );

      const ctx = new Context({ env, home: base.path });
      try {
        const rows = await ctx.catalog().listContainers();
        assert.deepEqual(rows.map((row) => row.uri).sort(), expected, "no lost or extra rows");
        const files = tree(storage);
        const rowFiles = rows.map((row) => row.image!.slice(storage.length + 1)).sort();
        assert.deepEqual(
          files.files,
          rowFiles,
          "every file has a row, every row its file, no hidden leftovers",
        );
        for (const dir of files.dirs) assert.ok(readdirSync(dir).length > 0, `empty folder ${dir}`);
        assert.deepEqual(readdirSync(join(base.path, "work-a")), [], "all sources were moved");
      } finally {
        ctx.close();
      }
    },
  );
});
