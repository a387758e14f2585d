/**
 * Image labels as found in a container row's `metrics` JSON, for `labels --key/--value` searches.
 *
 * Shapes read, in priority order (the first source that names a key wins):
 * 1. `metrics.labels` — an object of label → value (how this project stores them);
 * 2. `metrics.config.config.Labels` — the image config blob (OCI/Docker) recorded in metrics;
 * 3. top-level string values — the original flattens `singularity inspect`'s `attributes.labels` into
 *    the top level of metrics, next to its parsed-name keys; those name keys (`collection, image,
 *    original, registry, storage, tag, uri, url, version`) and `type` are not labels and are skipped.
 *    So: writers of metrics must not put other top-level *string* values there — nest them.
 * Values that are numbers or booleans are turned into text; other non-string values are ignored.
 *
 * @example
 * ```ts
 * labelsFromMetrics({ uri: "library/x:1", MAINTAINER: "me", labels: { "org.opencontainers.image.version": "1" } });
 * // [{ key: "org.opencontainers.image.version", value: "1" }, { key: "MAINTAINER", value: "me" }]
 * matchesLabel({ key: "MAINTAINER", value: "me" }, { key: "maint" }); // true
 * ```
 */

export interface Label {
  key: string;
  value: string;
}

export interface LabelQuery {
  key?: string;
  value?: string;
}

/** Keys of the original's parsed-name dict (+ `type`), which share the top level with labels. */
export const NON_LABEL_TOP_LEVEL_KEYS: ReadonlySet<string> = new Set([
  "collection",
  "image",
  "original",
  "registry",
  "storage",
  "tag",
  "uri",
  "url",
  "version",
  "type",
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function configLabels(metrics: Record<string, unknown>): unknown {
  const config = metrics.config;
  if (!isRecord(config) || !isRecord(config.config)) return undefined;
  return config.config.Labels;
}

/** All labels of one row's parsed metrics (see the module doc for the shapes read). */
export function labelsFromMetrics(metrics: unknown): Label[] {
  if (!isRecord(metrics)) return [];
  const found = new Map<string, string>();
  const take = (source: unknown, skip?: ReadonlySet<string>): void => {
    if (!isRecord(source)) return;
    for (const [key, raw] of Object.entries(source)) {
      const value = skip ? (typeof raw === "string" ? raw : undefined) : scalarText(raw);
      if (value === undefined || skip?.has(key) || found.has(key)) continue;
      found.set(key, value);
    }
  };
  take(metrics.labels);
  take(configLabels(metrics));
  // Rows we write keep labels under `labels`; only the original's rows (labels merged in from
  // `singularity inspect`) need the top-level scan, which would otherwise pick up digests and links.
  if (!isRecord(metrics.labels)) take(metrics, NON_LABEL_TOP_LEVEL_KEYS);
  return [...found].map(([key, value]) => ({ key, value }));
}

/** Case-insensitive substring match on each given part; an empty query matches every label. */
export function matchesLabel(label: Label, query: LabelQuery): boolean {
  const contains = (text: string, part: string | undefined): boolean =>
    part === undefined || part === "" || text.toLowerCase().includes(part.toLowerCase());
  return contains(label.key, query.key) && contains(label.value, query.value);
}
