/**
 * How a platform is written for people: `os/architecture[/variant]`, as an index spells it.
 *
 * @example
 * ```ts
 * formatPlatform({ os: "linux", architecture: "arm64", variant: "v8" }); // "linux/arm64/v8"
 * ```
 */
import type { Platform } from "./types.js";

/** `os/arch[/variant]` as the index spells it. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== "").join("/");
}
