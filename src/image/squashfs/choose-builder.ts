/**
 * Which program builds the squashfs: the native writer (src/image/squashfs, needs nothing but
 * Node.js) or an external tool (`tar2sqfs` from squashfs-tools-ng, `sqfstar`/`mksquashfs -tar` from
 * squashfs-tools), chosen by `--builder` / `SREGISTRY_BUILDER` or, by default, as below.
 *
 * - `native`: gzip and none are written in process; zstd, lz4 and xz are not (Node 20's zlib has no
 *   zstd, see compressor.ts), so those go to `tar2sqfs` when it is installed, otherwise the pull
 *   stops before downloading with one line saying what to install.
 * - `tar2sqfs` / `sqfstar`: that tool (builder.ts), as before.
 * - Unset: `DEFAULT_BUILDER`; when that is an external tool and no squashfs tool at all is installed,
 *   the native writer (a pull must work with nothing but Node.js).
 *
 * @example
 * ```ts
 * chooseBuilder(parseBuilder("native"), { algorithm: "zstd" }, detectSquashfsTools); // "tar2sqfs" (if installed)
 * ```
 */
import { SregistryError } from "../../util/errors.js";
import type { CompressionSpec } from "./compression.js";
import type { SquashfsTools } from "./tools.js";

export type BuilderName = "native" | "tar2sqfs" | "sqfstar";

/** The builder to run; the others are builder.ts's `tool` option ("auto": whichever is installed). */
export type ChosenBuilder = "native" | "tar2sqfs" | "sqfstar" | "auto";

export const BUILDER_CHOICES: readonly BuilderName[] = ["native", "tar2sqfs", "sqfstar"];

/** Used when neither `--builder` nor `SREGISTRY_BUILDER` names one. */
export const DEFAULT_BUILDER: BuilderName = "native";

/** Algorithms the native writer compresses in process. */
const NATIVE_ALGORITHMS = new Set(["gzip"]);

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
 * installed (probing costs three process starts, too much for a re-pull answered at once).
 */
export function chooseBuilder(
  wanted: BuilderName | undefined,
  compression: CompressionSpec,
  tools: () => SquashfsTools,
): ChosenBuilder {
  if (wanted === undefined && DEFAULT_BUILDER !== "native" && anyTool(tools())) return "auto";
  const builder = wanted ?? "native";
  if (builder !== "native") return builder;
  if (NATIVE_ALGORITHMS.has(compression.algorithm)) return "native";
  if (tools().tar2sqfs !== undefined) return "tar2sqfs";
  throw new SregistryError(
    `${compression.algorithm} compression needs tar2sqfs (squashfs-tools-ng), which is not installed: ` +
      "install it, or use --compression gzip",
    { code: "TOOL_MISSING" },
  );
}

function anyTool(tools: SquashfsTools): boolean {
  return tools.tar2sqfs !== undefined || tools.sqfstar !== undefined || tools.mksquashfsTar !== undefined;
}
