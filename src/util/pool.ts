/**
 * Runs async tasks with at most `limit` in flight, failing fast: the first error rejects the whole
 * run and stops tasks that have not started yet.
 *
 * @example
 * ```ts
 * const sizes = await mapLimit(urls, 4, async (url) => (await fetch(url)).headers.get("content-length"));
 * ```
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]!, index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}
