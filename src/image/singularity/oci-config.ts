/**
 * The `oci-config.json` SIF object: the image config's `config` member only (Env, Entrypoint, Cmd,
 * WorkingDir, User, Labels, ExposedPorts, Volumes, StopSignal…), not the whole config with
 * `rootfs` and `history`, as Apptainer stores it. Written compactly; members as the registry sent them.
 *
 * @example
 * ```ts
 * ociConfigJson({ architecture: "amd64", config: { Env: ["PATH=/bin"] } }); // '{"Env":["PATH=/bin"]}'
 * ```
 */
import type { ImageConfig } from "../../oci/types.js";

export function ociConfigJson(config: ImageConfig): string {
  return JSON.stringify(config.config ?? {});
}
