/**
 * Which program builds the squashfs: the native writer (src/image/squashfs, needs nothing but
 * Node.js) or an external tool (`tar2sqfs` from squashfs-tools-ng, `sqfstar`/`mksquashfs -tar` from
 * squashfs-tools), chosen by `--builder` / `SREGISTRY_BUILDER` or, by default, as below.
 *
 * - `native`: gzip, zstd and lz4 are written in process (zstd and lz4 by napi-rs add-ons shipped
 *   as per-platform npm packages, see zstd-codec.ts / lz4-codec.ts). Where such an add-on cannot
 *   load (a platform without a package, an install that skipped optional dependencies), and for
 *   `lz4:hc`, which the lz4 add-on lacks, the build goes to `tar2sqfs` when it is installed;
 *   otherwise the pull stops before downloading with one line saying what to install.
 * - `tar2sqfs` / `sqfstar`: that tool (builder.ts), as before.
 * - Unset: `DEFAULT_BUILDER`; when that is an external tool and no squashfs tool at all is installed,
 *   the native writer (a pull must work with nothing but Node.js).
 *
 * @example
 * ```ts
 * chooseBuilder(parseBuilder("native"), { algorithm: "zstd" }, detectSquashfsTools); // "native"
 * chooseBuilder("native", { algorithm: "lz4", hc: true }, detectSquashfsTools); // "tar2sqfs" (if installed)
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import type { CompressionSpec } from "./compression.js";
import { lz4Available } from "./lz4-codec.js";
import type { SquashfsTools } from "./tools.js";
import { zstdAvailable } from "./zstd-codec.js";

export type BuilderName = "native" | "tar2sqfs" | "sqfstar";

/** The builder to run; the others are builder.ts's `tool` option ("auto": whichever is installed). */
export type ChosenBuilder = "native" | "tar2sqfs" | "sqfstar" | "auto";

export const BUILDER_CHOICES: readonly BuilderName[] = ["native", "tar2sqfs", "sqfstar"];

/** Used when neither `--builder` nor `SREGISTRY_BUILDER` names one. */
export const DEFAULT_BUILDER: BuilderName = "native";

/** Whether the native writer can compress this way here (loads the zstd or lz4 add-on to know). */
export function compressesInProcess(compression: CompressionSpec): boolean {
  switch (compression.algorithm) {
    case "gzip":
      return true;
    case "zstd":
      return zstdAvailable();
    case "lz4":
      return compression.hc !== true && lz4Available();
    default:
      return false;
  }
}

/** Parses `--builder` / `SREGISTRY_BUILDER`; empty or undefined means the default. */
export function parseBuilder(text: string | undefined): BuilderName | undefined {
  const value = text?.trim().toLowerCase();
  if (value === undefined || value === "") return undefined;
  if ((BUILDER_CHOICES as readonly string[]).includes(value)) return value as BuilderName;
  throw new SregistryError(
    `--builder ${JSON.stringify(text)}: use one of ${BUILDER_CHOICES.join(", ")} (SREGISTRY_BUILDER too)`,
    { code: "USAGE" },
  );
}

/**
 * The builder for this compression. `tools` is only called when the answer depends on what is
 * installed (probing costs three process starts, too much for a re-pull answered at once);
 * `inProcess` says whether the native writer can do this compression here.
 */
export function chooseBuilder(
  wanted: BuilderName | undefined,
  compression: CompressionSpec,
  tools: () => SquashfsTools,
  inProcess: (compression: CompressionSpec) => boolean = compressesInProcess,
): ChosenBuilder {
  if (wanted === undefined && DEFAULT_BUILDER !== "native" && anyTool(tools())) return "auto";
  const builder = wanted ?? "native";
  if (builder !== "native") return builder;
  if (inProcess(compression)) return "native";
  if (tools().tar2sqfs !== undefined) return "tar2sqfs";
  const name = compression.hc === true ? `${compression.algorithm}:hc` : compression.algorithm;
  throw new SregistryError(
    `${name} compression cannot be done in process here and needs tar2sqfs (squashfs-tools-ng), ` +
      "which is not installed: install it, or use --compression gzip",
    { code: "TOOL_MISSING" },
  );
}

function anyTool(tools: SquashfsTools): boolean {
  return tools.tar2sqfs !== undefined || tools.sqfstar !== undefined || tools.mksquashfsTar !== undefined;
}
