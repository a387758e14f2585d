/**
 * Sizes libuv's thread pool to the machine before anything uses it.
 *
 * The native squashfs writer compresses data blocks with node:zlib's asynchronous API, which runs
 * in libuv's thread pool, as do file system calls and dns.lookup. The pool has 4 threads unless
 * `UV_THREADPOOL_SIZE` says otherwise, and libuv reads that variable once, when the pool first starts
 * (https://docs.libuv.org/en/v1.x/threadpool.html): on a 16-core node only 4 blocks would compress
 * at once. Setting it from JavaScript works only before the first pool job, so the executable imports
 * this module first (ES modules are evaluated in import order). A value the user set is kept.
 *
 * @example
 * ```ts
 * import "./threadpool.js"; // first import of the entry point
 * ```
 */
import { availableParallelism } from "node:os";

/** The pool size to use: the user's `UV_THREADPOOL_SIZE`, else one thread per core (at least 4). */
export function threadPoolSize(env: NodeJS.ProcessEnv, cores: number): string {
  const set = env.UV_THREADPOOL_SIZE;
  if (set !== undefined && set.trim() !== "") return set;
  return String(Math.max(4, cores));
}

process.env.UV_THREADPOOL_SIZE = threadPoolSize(process.env, availableParallelism());
