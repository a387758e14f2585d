import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

/**
 * Runs the real launcher (compiled to CommonJS as `npm run build` does) with a probe in place of
 * main.js. The probe blocks `size - 1` pool threads on FIFO opens and checks that one more pool job
 * still runs: that only holds when the pool really has `size` threads, i.e. when the variable was
 * set before the pool started.
 */
async function poolThreadsSeen(env: NodeJS.ProcessEnv, size: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sregistry-pool-"));
  try {
    const source = readFileSync(new URL("./sregistry.cts", import.meta.url), "utf8");
    const launcher = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022 },
      fileName: "sregistry.cts",
    }).outputText;
    await writeFile(join(dir, "sregistry.cjs"), launcher);
    await writeFile(join(dir, "package.json"), '{"type":"module"}');
    const fifos = Array.from({ length: size - 1 }, (_, i) => join(dir, `fifo${i}`));
    for (const fifo of fifos) spawnSync("mkfifo", [fifo]);
    await writeFile(
      join(dir, "main.js"),
      `import { open, stat } from "node:fs";
for (const fifo of ${JSON.stringify(fifos)}) open(fifo, "r", () => {});
const timer = setTimeout(() => { console.log("blocked " + process.env.UV_THREADPOOL_SIZE); process.exit(0); }, 1500);
stat(".", () => { clearTimeout(timer); console.log("free " + process.env.UV_THREADPOOL_SIZE); process.exit(0); });
`,
    );
    const run = spawnSync(process.execPath, [join(dir, "sregistry.cjs")], {
      env,
      encoding: "utf8",
      timeout: 20_000,
    });
    return `${run.stdout.trim()}${run.stderr}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("sregistry executable: libuv thread pool", () => {
  it("has one thread per core (at least 4) when UV_THREADPOOL_SIZE is unset", async () => {
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    const size = Math.max(4, availableParallelism());
    assert.equal(await poolThreadsSeen(env, size), `free ${size}`);
  });

  it("keeps the user's UV_THREADPOOL_SIZE, and that size is really in effect", async () => {
    assert.equal(await poolThreadsSeen({ ...process.env, UV_THREADPOOL_SIZE: "7" }, 7), "free 7");
    // The probe can tell: 5 threads cannot run a 7th job while 6 are blocked.
    assert.equal(await poolThreadsSeen({ ...process.env, UV_THREADPOOL_SIZE: "5" }, 7), "blocked 5");
  });
});
