import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { threadPoolSize } from "./threadpool.js";

describe("libuv thread pool size", () => {
  it("is one thread per core, never below libuv's default of 4", () => {
    assert.equal(threadPoolSize({}, 16), "16");
    assert.equal(threadPoolSize({}, 2), "4");
    assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: "" }, 8), "8");
  });

  it("keeps the user's UV_THREADPOOL_SIZE", () => {
    assert.equal(threadPoolSize({ UV_THREADPOOL_SIZE: "3" }, 16), "3");
  });

  it("is set by importing the module, before anything else in the executable", () => {
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    const probe = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        'await import("./src/cli/threadpool.ts"); console.log(process.env.UV_THREADPOOL_SIZE)',
      ],
      { env, encoding: "utf8" },
    );
    assert.equal(probe.stdout.trim(), String(Math.max(4, availableParallelism())), probe.stderr);
  });
});
