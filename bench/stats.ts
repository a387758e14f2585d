/**
 * Summaries of repeated measurements: median and range, formatted for the markdown tables.
 *
 * @example
 * ```ts
 * spread([3.1, 2.9, 3.4]); // "3.10 s (2.90–3.40)"
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "median s (min–max)", or just the value for a single run. */
export function spread(values: readonly number[], digits = 2): string {
  if (values.length === 0) return "–";
  const m = `${median(values).toFixed(digits)} s`;
  if (values.length === 1) return m;
  return `${m} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
