/**
 * The definition file recorded for a pull: `/.singularity.d/Singularity` and the SIF `Def.FILE`
 * object hold the same text, `bootstrap: docker\nfrom: <ref>\n\n`, as Apptainer writes for
 * `apptainer pull docker://<ref>`.
 *
 * @example
 * ```ts
 * definitionFile("nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04");
 * // "bootstrap: docker\nfrom: nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04\n\n"
 * ```
 */

/** The definition text; a `docker://` prefix on the reference is dropped. */
export function definitionFile(reference: string): string {
  const ref = reference.replace(/^docker:\/\//, "");
  return `bootstrap: docker\nfrom: ${ref}\n\n`;
}
