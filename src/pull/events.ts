/**
 * Progress events of a pull, emitted by the pipeline and rendered by the CLI (bars on a terminal,
 * one line per stage in logs). The library user can subscribe through `PullOptions.onEvent`.
 */
export type PullStage = "resolve" | "download" | "build" | "store";

export type PullEvent =
  | { type: "resolved"; reference: string; digest: string; platform: string; layers: LayerInfo[] }
  | { type: "reused"; path: string; uri: string }
  | { type: "stage"; stage: PullStage; detail?: string }
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
