/**
 * Renders pull events on stderr (stdout stays clean for scripts).
 *
 * - Terminal: during the download, one bar per layer and an overall bar (bytes, rate, ETA),
 *   redrawn in place at most 10 times a second; then one live line for the build stage.
 * - Logs (no terminal): one line per stage, no escape codes.
 * - Both end with a summary of the stage times. `--quiet` creates no renderer at all.
 *
 * Names in these lines (the reference, the platform, digests) come from the registry: every line
 * is made safe with `sanitizeForTerminal` before our own cursor and erase sequences are added.
 *
 * Layers already in the cache count as done from the start (the rate only counts new bytes).
 * With many layers, finished ones are folded into one line so the block fits a terminal.
 *
 * @example
 * ```ts
 * const progress = new PullProgress(process.stderr, { tty: Boolean(process.stderr.isTTY) });
 * try { await pull(ctx, image, { onEvent: (e) => progress.handle(e) }); } finally { progress.close(); }
 * ```
 */
import type { LayerInfo, PullEvent, PullOutput } from "../pull/events.js";
import type { Writer } from "../util/log.js";
import { formatBytes } from "../util/disk.js";
import { sanitizeForTerminal } from "../util/terminal.js";

const BAR_WIDTH = 24;
const REDRAW_MS = 100;
const MAX_LAYER_LINES = 12;

/** Build-stage wording per output: the log line's steps and the live line's name and verb. */
const BUILD_LABELS: Record<PullOutput, { steps: string; name: string; verb: string }> = {
  sif: { steps: "Building image (flatten layers → squashfs → SIF)...", name: "SIF", verb: "flattened" },
  squashfs: {
    steps: "Building image (flatten layers → squashfs for enroot)...",
    name: "squashfs",
    verb: "flattened",
  },
  sandbox: { steps: "Building sandbox (flatten layers → directory)...", name: "sandbox", verb: "extracted" },
};

interface LayerState extends LayerInfo {
  done: number;
  finished: boolean;
}

export interface PullProgressOptions {
  tty: boolean;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

export class PullProgress {
  private layers: LayerState[] = [];
  private readonly now: () => number;
  private readonly started: number;
  private downloadStarted = 0;
  private newBytes = 0;
  /** Bytes of the layers this pull fetched, from their completion events (exact, even for schema 1). */
  private downloaded = 0;
  private drawnLines = 0;
  private lastDraw = -Infinity;
  private builtBytes = 0;
  private buildStarted = 0;
  private stage = "";
  private output: PullOutput = "sif";
  private openLine = false;

  constructor(
    private readonly out: Writer,
    private readonly options: PullProgressOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  handle(event: PullEvent): void {
    switch (event.type) {
      case "resolved":
        this.layers = event.layers.map((l) => ({
          ...l,
          done: l.cached ? Math.max(0, l.size) : 0,
          finished: l.cached,
        }));
        this.line(
          `Resolved ${event.reference} (${event.digest.slice(0, 19)}) for ${event.platform}: ` +
            `${plural(event.layers.length, "layer")}, ${formatBytes(this.totalBytes())}, ` +
            `${event.layers.filter((l) => l.cached).length} cached`,
        );
        break;
      case "reused":
        this.line(`Up to date: ${event.uri} was already built from the same manifest`);
        break;
      case "stage":
        if (event.output) this.output = event.output;
        this.onStage(event.stage, event.recorded ?? true);
        break;
      case "layer-progress":
        this.find(event.digest).done += event.bytes;
        this.newBytes += event.bytes;
        this.redraw(false);
        break;
      case "layer-done": {
        const layer = this.find(event.digest);
        layer.finished = true;
        if (layer.size >= 0) layer.done = layer.size;
        this.downloaded += event.downloaded;
        this.redraw(true);
        break;
      }
      case "build-progress":
        this.builtBytes += event.bytes;
        this.drawBuild(false);
        break;
      case "done": {
        const s = event.seconds;
        this.endLine();
        this.line(
          `Pulled in ${this.since(this.started)} (resolve ${s.resolve.toFixed(1)} s, download ` +
            `${s.download.toFixed(1)} s, build ${s.build.toFixed(1)} s, store ${s.store.toFixed(1)} s)`,
        );
        break;
      }
    }
  }

  /** Leaves the terminal on a fresh line (after an error or an interrupt too). */
  close(): void {
    this.endLine();
  }

  private onStage(stage: string, recorded: boolean): void {
    const previous = this.stage;
    this.stage = stage;
    if (stage === "download") {
      this.downloadStarted = this.now();
      const toFetch = this.layers.filter((l) => !l.cached);
      if (!this.options.tty) {
        this.line(`Downloading ${plural(toFetch.length, "layer")} (${formatBytes(sumSizes(toFetch))})...`);
      }
      this.redraw(true);
    }
    if (stage === "build") {
      if (previous === "download") {
        this.redraw(true, true);
        this.drawnLines = 0;
        const seconds = (this.now() - this.downloadStarted) / 1000;
        this.line(
          `Downloaded ${formatBytes(this.downloaded)} in ${seconds.toFixed(1)} s` +
            (this.downloaded > 0 ? ` (${formatBytes(this.downloaded / Math.max(seconds, 0.001))}/s)` : ""),
        );
      }
      this.buildStarted = this.now();
      if (this.options.tty) this.drawBuild(true);
      else this.line(BUILD_LABELS[this.output].steps);
    }
    if (stage === "store") {
      this.drawBuild(true);
      this.endLine();
      if (!this.options.tty) {
        this.line(
          recorded
            ? "Storing image and updating the catalog..."
            : `Placing the ${BUILD_LABELS[this.output].name}...`,
        );
      }
    }
  }

  private find(digest: string): LayerState {
    let layer = this.layers.find((l) => l.digest === digest);
    if (!layer) {
      layer = { digest, size: -1, cached: false, done: 0, finished: false };
      this.layers.push(layer);
    }
    return layer;
  }

  private totalBytes(): number {
    return sumSizes(this.layers);
  }

  private line(text: string): void {
    this.endLine();
    this.out.write(sanitizeForTerminal(text) + "\n");
  }

  private endLine(): void {
    if (!this.openLine) return;
    this.out.write("\n");
    this.openLine = false;
  }

  private since(from: number): string {
    return `${((this.now() - from) / 1000).toFixed(1)} s`;
  }

  /** Redraws the bars block in place (terminal only), throttled unless forced. */
  private redraw(force: boolean, final = false): void {
    if (!this.options.tty || (this.stage !== "download" && !final)) return;
    const now = this.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const lines = this.layerLines();
    lines.push(this.overall(now));
    let text = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : "";
    for (const line of lines) text += `\r\x1b[2K${sanitizeForTerminal(line)}\n`;
    this.out.write(text);
    this.drawnLines = lines.length;
  }

  private layerLines(): string[] {
    const count = this.layers.length;
    const shown = this.layers.map((layer, index) => ({ layer, index }));
    let folded = 0;
    while (shown.length > MAX_LAYER_LINES) {
      const i = shown.findIndex((s) => s.layer.finished);
      if (i < 0) break;
      shown.splice(i, 1);
      folded++;
    }
    const lines = shown.map(
      ({ layer, index }) =>
        `[${String(index + 1).padStart(String(count).length)}/${count}] ${layer.digest.slice(7, 19)} ` +
        (layer.cached ? `${bar(layer.size, layer.size)} cached` : bar(layer.done, layer.size)),
    );
    if (folded > 0) lines.unshift(`… ${plural(folded, "more layer")} done`);
    return lines;
  }

  private overall(now: number): string {
    const total = this.totalBytes();
    const done = this.layers.reduce((sum, l) => sum + l.done, 0);
    const seconds = Math.max(0.001, (now - this.downloadStarted) / 1000);
    const rate = this.newBytes / seconds;
    const eta = rate > 0 && total > done ? ` ETA ${formatSeconds((total - done) / rate)}` : "";
    return `Total ${bar(done, total)} ${formatBytes(rate)}/s${eta}`;
  }

  private drawBuild(force: boolean): void {
    if (!this.options.tty || this.stage !== "build") return;
    const now = this.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const seconds = (now - this.buildStarted) / 1000;
    const { name, verb } = BUILD_LABELS[this.output];
    this.out.write(
      `\r\x1b[2KBuilding ${name}: ${formatBytes(this.builtBytes)} of files ${verb} in ${seconds.toFixed(1)} s`,
    );
    this.openLine = true;
  }
}

function sumSizes(layers: LayerInfo[]): number {
  return layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function formatSeconds(seconds: number): string {
  const s = Math.ceil(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** `|=====-----|  42.0% 12 MB`, or the bytes so far when the size is unknown (schema 1). */
export function bar(done: number, total: number): string {
  if (total <= 0) return `|${"?".repeat(BAR_WIDTH)}| ${formatBytes(done)}`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  return (
    `|${"=".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}| ` +
    `${(ratio * 100).toFixed(1).padStart(5)}% ${formatBytes(total)}`
  );
}
