/**
 * The image configuration blob (OCI config.md; Docker's image JSON): the container's defaults
 * (env, entrypoint, cmd, labels), the rootfs diff_ids and the history.
 *
 * @example
 * ```ts
 * const diffIds = config.rootfs?.diff_ids ?? [];
 * ```
 */
import type { Digest } from "./digest.js";

/** The `config` member of an image config (what Docker calls ContainerConfig). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[] | null;
  Entrypoint?: string[] | string | null;
  Cmd?: string[] | string | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  [key: string]: unknown;
}

/** An OCI / Docker image configuration blob. */
export interface ImageConfig {
  architecture?: string;
  variant?: string;
  os?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs?: { type: string; diff_ids: Digest[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
  [key: string]: unknown;
}
