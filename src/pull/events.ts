/**
 * Progress events of a pull, emitted by the pipeline and rendered by the CLI (bars on a terminal,
 * one line per stage in logs). The library user can subscribe through `PullOptions.onEvent`.
 */
export type PullStage = "resolve" | "download" | "build" | "store";

/** What the build stage writes: a SIF, a plain squashfs for enroot (`--format squashfs`), or a directory. */
export type PullOutput = "sif" | "squashfs" | "sandbox";

export type PullEvent =
  | { type: "resolved"; reference: string; digest: string; platform: string; layers: LayerInfo[] }
  | { type: "reused"; path: string; uri: string }
  | {
      type: "stage";
      stage: PullStage;
      detail?: string;
      /** On the build stage: what is being built, so progress names the real output. */
      output?: PullOutput;
      /** On the store stage: whether a catalog row is written (not for squashfs, sandbox, `--no-cache`). */
      recorded?: boolean;
    }
  | { type: "layer-progress"; digest: string; bytes: number }
  | { type: "layer-done"; digest: string; cached: boolean; downloaded: number }
  | { type: "build-progress"; bytes: number }
  | { type: "done"; path: string; uri: string; seconds: Record<PullStage, number> };

export interface LayerInfo {
  digest: string;
  /** Compressed size from the manifest; -1 when unknown (schema 1). */
  size: number;
  cached: boolean;
}

export type PullEventListener = (event: PullEvent) => void;
