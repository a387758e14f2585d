#!/usr/bin/env node
/**
 * The `sregistry` executable: sizes libuv's thread pool, then loads the CLI (main.ts).
 *
 * The native squashfs writer compresses data blocks with node:zlib's asynchronous API, which runs
 * in libuv's thread pool, as do file reads and dns.lookup. The pool has 4 threads unless
 * `UV_THREADPOOL_SIZE` says otherwise, and libuv reads that variable once, when the pool starts
 * (https://docs.libuv.org/en/v1.x/threadpool.html). Node's ES module loader reads module files
 * through that pool, so setting the variable from any ES module is too late (measured: the pool
 * stays at 4). This entry point is CommonJS, whose loader reads files synchronously: it sets the
 * variable before anything touches the pool, then imports the ES module CLI. One thread per core,
 * never fewer than libuv's 4 (file system calls share the pool); a value the user set is kept.
 *
 * @example
 * ```sh
 * UV_THREADPOOL_SIZE=16 sregistry pull docker://ubuntu:22.04   # or leave it unset: the core count
 * ```
 */
import { availableParallelism } from "node:os";

if ((process.env.UV_THREADPOOL_SIZE ?? "").trim() === "") {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(4, availableParallelism()));
}
import("./main.js").catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
