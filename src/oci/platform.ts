/**
 * A platform (the OCI image index `platform` object) and how it is written for people: `os/architecture[/variant]`, as an index spells it.
 *
 * @example
 * ```ts
 * formatPlatform({ os: "linux", architecture: "arm64", variant: "v8" }); // "linux/arm64/v8"
 * ```
 */
/** The `platform` of an index entry or an image config (OCI image-index.md). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

/** `os/arch[/variant]` as the index spells it. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== "").join("/");
}
