/**
 * Keeps V8's young generation at its starting size for the commands that build images (`pull`,
 * `pyxis-importer get`): their process is ours, and their memory bound depends on it.
 *
 * A build keeps its data in typed arrays and buffers outside the JavaScript heap, yet V8 grows the
 * young generation (two semi-spaces, up to 16 MiB each by default on 64-bit) whenever objects
 * survive a scavenge, and never gives that memory back during the pull. Measured on a build of
 * 500,000 files (2 layers, scripts/measure-flatten-memory.ts): peak RSS 245–253 MiB with the
 * default growth, 208–210 MiB without it, the same CPU time (23.5 s); cold pulls of the big
 * benchmark image: 30–50 MB less peak RSS, no difference in time beyond the machine's noise.
 *
 * How: `--semi-space-growth-factor=1`. V8 reads that factor each time it grows a semi-space
 * (`SemiSpaceNewSpace::Grow` in v8/src/heap/new-spaces.cc: new capacity = factor × current,
 * capped), so setting it after start takes effect, unlike `--max-semi-space-size`, which V8 reads
 * once when the heap is set up. Node documents `v8.setFlagsFromString` after start as possibly
 * unpredictable; a sizing factor read at each growth is the benign case. Passing the size flag on
 * the command line instead would cost every command a slower start: any V8 flag there makes Node
 * compile its built-in modules afresh (their code cache is keyed by the flags), +17 ms measured
 * for `sregistry version`. Library users are left alone: only the CLI calls this.
 *
 * @example
 * ```ts
 * keepYoungGenerationSmall(); // first thing in a command that builds an image
 * ```
 */
import { setFlagsFromString } from "node:v8";

export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}
