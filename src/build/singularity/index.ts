/**
 * Singularity/Apptainer metadata generated for a pulled image: the `/.singularity.d` files and
 * root entries (`singularityOverlay`) and the SIF metadata object texts (`singularityMetadata`).
 *
 * @example
 * ```ts
 * import { singularityMetadata, singularityOverlay } from "../build/singularity/index.js";
 * const input = { config, reference, manifestDigest, created, toolVersion: "0.3.0" };
 * const entries = singularityOverlay(input);   // lay over the flattened layers
 * const meta = singularityMetadata(input);     // definition / inspectMetadata / ociConfig for the SIF
 * ```
 */
export { dockerEnvScript } from "./env-script.js";
export { runscript, effectiveCommand, commandArgv, type RunscriptOptions } from "./runscript.js";
export { fixedSingularityFiles, type ScriptFile } from "./actions.js";
export { labelsJson, buildLabels, mergedLabels, type BuildLabelInput } from "./labels.js";
export { definitionFile } from "./definition.js";
export { inspectMetadata, inspectMetadataValue, type InspectAttributes } from "./inspect-metadata.js";
export { ociConfigJson } from "./oci-config.js";
export {
  singularityMetadata,
  hostGoArch,
  type SingularityInput,
  type SingularityMetadata,
} from "./metadata.js";
export { singularityOverlay, type OverlayEntry, type OverlayInput } from "./overlay.js";
