/**
 * `/.singularity.d/labels.json`: the image's labels merged with the labels a build adds.
 *
 * The image `Config.Labels` come first, then the build labels are merged in and win on the same
 * key (Apptainer's order). Written like Apptainer writes it with Go: keys sorted, tab-indented.
 * Build labels: `org.label-schema.schema-version`, `org.label-schema.build-date`
 * (`Monday_2_January_2006_15:04:05_UTC` in UTC), `org.label-schema.build-arch`,
 * `org.label-schema.usage.singularity.deffile.bootstrap` (`docker`) and `.from` (the reference),
 * `org.opencontainers.image.created` (RFC 3339), `org.opencontainers.image.base.name` (reference)
 * and `.base.digest` (manifest digest, when known), `org.opencontainers.image.architecture` and
 * `.variant`. Apptainer's `org.label-schema.usage.apptainer.version` becomes
 * `org.label-schema.usage.<tool>.version` (e.g. `org.label-schema.usage.sregistry.version`),
 * because no Apptainer built the image.
 *
 * @example
 * ```ts
 * labelsJson({ maintainer: "me" }, {
 *   created: new Date("2024-05-01T12:00:00Z"), reference: "nvcr.io/nvidia/pytorch:24.04-py3",
 *   architecture: "amd64", tool: "sregistry", version: "0.3.0",
 * });
 * ```
 */
import { goJson } from "./go-json.js";
import { MONTHS, WEEKDAYS } from "../../util/calendar.js";

export interface BuildLabelInput {
  /** Build time (the image config's `created` for reproducible images). */
  created: Date;
  /** The image reference without `docker://`, e.g. `docker.io/library/alpine:3.20`. */
  reference: string;
  manifestDigest?: string;
  /** GOARCH-style architecture of the image (`amd64`, `arm64`…). */
  architecture: string;
  variant?: string;
  /** Name of the building tool, used in `org.label-schema.usage.<tool>.version`. */
  tool: string;
  version: string;
}

/** The labels a build adds, in no particular order (the output is sorted). */
export function buildLabels(build: BuildLabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    "org.label-schema.schema-version": "1.0",
    "org.label-schema.build-date": labelSchemaDate(build.created),
    "org.label-schema.build-arch": build.architecture,
    [`org.label-schema.usage.${build.tool}.version`]: build.version,
    "org.label-schema.usage.singularity.deffile.bootstrap": "docker",
    "org.label-schema.usage.singularity.deffile.from": build.reference,
    "org.opencontainers.image.created": rfc3339(build.created),
    "org.opencontainers.image.base.name": build.reference,
    "org.opencontainers.image.architecture": build.architecture,
  };
  if (build.manifestDigest !== undefined)
    labels["org.opencontainers.image.base.digest"] = build.manifestDigest;
  if (build.variant !== undefined && build.variant !== "") {
    labels["org.opencontainers.image.variant"] = build.variant;
  }
  return labels;
}

/** Image labels overlaid with the build labels, as a sorted map. */
export function mergedLabels(
  imageLabels: Record<string, string> | null | undefined,
  build: BuildLabelInput,
): Map<string, string> {
  const merged = new Map<string, string>();
  for (const [key, value] of Object.entries(imageLabels ?? {})) merged.set(key, String(value));
  for (const [key, value] of Object.entries(buildLabels(build))) merged.set(key, value);
  return new Map([...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The labels.json text (tab-indented, sorted keys, trailing newline-free like Go's output). */
export function labelsJson(
  imageLabels: Record<string, string> | null | undefined,
  build: BuildLabelInput,
): string {
  return goJson(mergedLabels(imageLabels, build), "\t");
}

/** Go's time.RFC3339 in UTC: `2006-01-02T15:04:05Z`, whole seconds. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Label-schema build date, Go layout `Monday_2_January_2006_15:04:05_MST`, in UTC. */
export function labelSchemaDate(date: Date): string {
  const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  const day = `${WEEKDAYS[date.getUTCDay()]}_${date.getUTCDate()}_${MONTHS[date.getUTCMonth()]}`;
  return `${day}_${date.getUTCFullYear()}_${time}_UTC`;
}
