/**
 * Everything a pull derives from the image config for Singularity, computed once: the complete
 * set of `/.singularity.d` files (fixed and generated), and the texts of the three SIF metadata
 * objects (definition, `inspect-metadata.json`, `oci-config.json`). `overlay.ts` turns the files
 * into tar entries; the SIF writer takes the object texts.
 *
 * @example
 * ```ts
 * const meta = singularityMetadata({ config, reference: "docker.io/library/alpine:3.20",
 *   created: new Date(config.created ?? 0), toolVersion: "0.3.0" });
 * await createSif(tmp, { definition: meta.definition, inspectMetadata: meta.inspectMetadata,
 *   ociConfig: meta.ociConfig, partition: { path: squashfs, arch: meta.architecture } });
 * ```
 */
import type { ImageConfig } from "../../oci/types.js";
import { fixedSingularityFiles, ENV_90_ENVIRONMENT, type ScriptFile } from "./actions.js";
import { definitionFile } from "./definition.js";
import { dockerEnvScript } from "./env-script.js";
import { inspectMetadata } from "./inspect-metadata.js";
import { labelsJson, mergedLabels } from "./labels.js";
import { ociConfigJson } from "./oci-config.js";
import { runscript } from "./runscript.js";

export interface SingularityInput {
  config: ImageConfig;
  /** Image reference without `docker://`, e.g. `nvcr.io/nvidia/pytorch:24.04-py3`. */
  reference: string;
  manifestDigest?: string;
  /** SREGISTRY_DOCKER_CMD: CMD instead of ENTRYPOINT when both are set. */
  preferCmd?: boolean;
  /** Build time: file mtimes and the date labels. */
  created: Date;
  toolVersion: string;
  /** Tool name for the version label; default `sregistry`. */
  tool?: string;
}

export interface SingularityMetadata {
  /** GOARCH of the image (config `architecture`, else the host's). */
  architecture: string;
  /** All `/.singularity.d` files, paths relative to the image root. */
  files: ScriptFile[];
  definition: string;
  inspectMetadata: string;
  ociConfig: string;
}

const ENV_DOCKER = ".singularity.d/env/10-docker2singularity.sh";

export function singularityMetadata(input: SingularityInput): SingularityMetadata {
  const containerConfig = input.config.config;
  const architecture = input.config.architecture ?? hostGoArch();
  const build = {
    created: input.created,
    reference: input.reference.replace(/^docker:\/\//, ""),
    architecture,
    tool: input.tool ?? "sregistry",
    version: input.toolVersion,
    ...(input.manifestDigest === undefined ? {} : { manifestDigest: input.manifestDigest }),
    ...(input.config.variant === undefined ? {} : { variant: input.config.variant }),
  };
  const definition = definitionFile(build.reference);
  const run = runscript(containerConfig, { preferCmd: input.preferCmd === true });
  const envScript = dockerEnvScript(containerConfig?.Env);
  const fixed = fixedSingularityFiles();
  const startscript = fixed.find((f) => f.path === ".singularity.d/startscript")?.content ?? "";
  const files: ScriptFile[] = [
    ...fixed,
    { path: ENV_DOCKER, mode: 0o755, content: envScript },
    { path: ".singularity.d/runscript", mode: 0o755, content: run },
    { path: ".singularity.d/labels.json", mode: 0o644, content: labelsJson(containerConfig?.Labels, build) },
    { path: ".singularity.d/Singularity", mode: 0o644, content: definition },
  ];
  const inspect = inspectMetadata({
    labels: mergedLabels(containerConfig?.Labels, build),
    deffile: definition,
    runscript: run,
    startscript,
    environment: {
      [`/${ENV_DOCKER}`]: envScript,
      "/.singularity.d/env/90-environment.sh": ENV_90_ENVIRONMENT,
    },
  });
  return {
    architecture,
    files,
    definition,
    inspectMetadata: inspect,
    ociConfig: ociConfigJson(input.config),
  };
}

/** Node's `process.arch` in Go's GOARCH spelling. */
export function hostGoArch(): string {
  const names: Record<string, string> = { x64: "amd64", ia32: "386", ppc64: "ppc64le", loong64: "loong64" };
  return names[process.arch] ?? process.arch;
}
