/**
 * Renders pull events. On a terminal: one bar per layer and an overall bar (bytes, rate, ETA),
 * redrawn in place at most 10 times a second, then the build stage. Without a terminal: one line
 * per stage, for logs. Progress goes to stderr so stdout stays clean for scripts.
 *
 * @example
 * ```ts
 * const progress = new PullProgress(process.stderr, { tty: process.stderr.isTTY });
 * await pull(ctx, image, { onEvent: (e) => progress.handle(e) });
 * progress.finish();
 * ```
 */
import type { LayerInfo, PullEvent } from "../pull/events.js";
import type { Writer } from "../util/log.js";
import { formatBytes } from "../util/disk.js";

const BAR_WIDTH = 28;
const REDRAW_MS = 100;

interface LayerState extends LayerInfo {
  done: number;
  finished: boolean;
}

export class PullProgress {
  private layers: LayerState[] = [];
  private started = performance.now();
  private downloadStarted = 0;
  private drawnLines = 0;
  private lastDraw = 0;
  private builtBytes = 0;
  private stage = "";

  constructor(
    private readonly out: Writer,
    private readonly options: { tty: boolean },
  ) {}

  handle(event: PullEvent): void {
    switch (event.type) {
      case "resolved":
        this.layers = event.layers.map((l) => ({ ...l, done: l.cached ? Math.max(0, l.size) : 0, finished: l.cached }));
        this.line(
          `Resolved ${event.reference} (${event.digest.slice(0, 19)}) for ${event.platform}: ` +
            `${event.layers.length} layers, ${formatBytes(this.totalBytes())}, ` +
            `${event.layers.filter((l) => l.cached).length} cached`,
        );
        break;
      case "reused":
        this.line(`Up to date: ${event.uri} was built from the same manifest`);
        break;
      case "stage":
        this.stage = event.stage;
        if (event.stage === "download") this.downloadStarted = performance.now();
        if (event.stage === "build") {
          this.redraw(true);
          this.drawnLines = 0;
          this.line(`Downloaded ${formatBytes(this.totalBytes())} in ${this.elapsed(this.downloadStarted)}`);
          this.line("Building SIF (flatten layers → squashfs)...");
        }
        if (event.stage === "store") this.line("Storing image and updating the catalog...");
        break;
      case "layer-progress":
        this.find(event.digest).done += event.bytes;
        this.redraw(false);
        break;
      case "layer-done": {
        const layer = this.find(event.digest);
        layer.finished = true;
        if (layer.size >= 0) layer.done = layer.size;
        if (!this.options.tty) {
          const how = event.cached ? "cached" : `downloaded ${formatBytes(event.downloaded)}`;
          this.line(`Layer ${event.digest.slice(7, 19)} ${how}`);
        }
        this.redraw(true);
        break;
      }
      case "build-progress":
        this.builtBytes += event.bytes;
        if (this.options.tty && this.stage === "build") this.drawBuild();
        break;
      case "done": {
        const s = event.seconds;
        if (this.options.tty) this.out.write("\r\x1b[2K");
        this.line(
          `Pulled in ${this.elapsed(this.started)} (resolve ${s.resolve.toFixed(1)} s, download ` +
            `${s.download.toFixed(1)} s, build ${s.build.toFixed(1)} s, store ${s.store.toFixed(1)} s)`,
        );
        break;
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
    return this.layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
  }

  private line(text: string): void {
    this.out.write(text + "\n");
  }

  private elapsed(from: number): string {
    return `${((performance.now() - from) / 1000).toFixed(1)} s`;
  }

  /** Redraws the bars block in place (terminal only), throttled unless forced. */
  private redraw(force: boolean): void {
    if (!this.options.tty || this.stage !== "download") return;
    const now = performance.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const lines = this.layers.map((l, i) => `[${i + 1}/${this.layers.length}] ${l.digest.slice(7, 19)} ${bar(l.done, l.size)}`);
    lines.push(this.overall(now));
    let text = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : "";
    for (const line of lines) text += `\r\x1b[2K${line}\n`;
    this.out.write(text);
    this.drawnLines = lines.length;
  }

  private overall(now: number): string {
    const total = this.totalBytes();
    const done = this.layers.reduce((sum, l) => sum + l.done, 0);
    const seconds = Math.max(0.001, (now - this.downloadStarted) / 1000);
    const rate = done / seconds;
    const eta = rate > 0 && total > done ? `ETA ${Math.ceil((total - done) / rate)} s` : "";
    return `Total ${bar(done, total)} ${formatBytes(rate)}/s ${eta}`.trimEnd();
  }

  private drawBuild(): void {
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.out.write(`\r\x1b[2KBuilding: ${formatBytes(this.builtBytes)} flattened`);
  }
}

function bar(done: number, total: number): string {
  if (total <= 0) return `|${"?".repeat(BAR_WIDTH)}| ${formatBytes(done)}`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  return `|${"=".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}| ${(ratio * 100).toFixed(1).padStart(5)}% ${formatBytes(total)}`;
}
