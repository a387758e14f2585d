/**
 * Flattens image layers into ONE tar stream with OCI/umoci semantics, without ever writing a rootfs.
 *
 * Algorithm: two passes, bottom-up.
 * 1. Scan: every layer's headers are read (bodies skipped; layers are scanned `scanConcurrency` at
 *    a time since inflating is the cost), its decompressed bytes are hashed against its diff_id and
 *    bounded against decompression bombs (layer-check.ts), and it is applied in order to an
 *    in-memory tree (tree.ts):
 *    whiteouts, opaque directories, replacements, hardlinks (also across layers) and SecureJoin-style
 *    confinement of parents through symlinks. Overlay entries are applied last.
 * 2. Emit: directories, symlinks, devices, FIFOs, empty and in-memory files are written first;
 *    then each layer that still owns a surviving file body is read again and those bodies are
 *    streamed straight from the decompressor to the output (other layers are not re-read; a layer
 *    is abandoned as soon as its last needed body is written). Hardlinks follow their target.
 *    This pass is bounded again (the blob could change between reads) but not hashed: it stops
 *    early, and an entry that differs from the first pass's is refused.
 * Nothing is written to `out` before every layer passed its first-pass checks, except with a sink
 * that stores bodies early (sink.ts `storeBody`, the native writer): pass 1 then also hands it
 * every file body as it streams, one layer at a time, and pass 2 reads no layer at all. If the
 * plan leaves more stored content unused than `storedUnusedLimit` allows (later layers deleted or
 * replaced it), the sink is restarted (`restart()`) and the build goes on in two passes, so the
 * image carries no big dead content and is the one a two-pass build gives. In one pass each layer
 * is released (`LayerSource.release`) as soon as it is read and verified; a second-pass read awaits
 * `ready()` again first and releases the layer after (a pull without a cache deletes the blob and
 * fetches it again only if needed).
 *
 * Why not oci-tools' single top-down pass: reading upper layers first cannot know that a path's
 * parent is a symlink planted by a *lower* layer (`x → /etc` in layer 1, `x/passwd` in layer 2),
 * so it cannot give umoci's (= Apptainer's) result for those images, and confinement would rely on
 * lexical checks only. Bottom-up needs the whole tree before any body can be written (an upper
 * layer may delete it), hence two reads; memory stays O(number of paths), never O(bytes).
 *
 * Output guarantees: every name and hardlink target is a cleaned relative path inside the root;
 * each path appears once; the root is never an entry (its attributes are in `stats.root` for the
 * squashfs builder's `-root-*` options).
 *
 * @example
 * ```ts
 * const layers = manifest.layers.map((d) => ({
 *   digest: d.digest, mediaType: d.mediaType,
 *   open: () => openLayerStream(cache.path(d.digest), d.mediaType),
 * }));
 * const stats = await flattenLayers(layers, overlay, sqfstar.stdin);
 * ```
 */
import type { Writable } from "node:stream";
import { SregistryError } from "../../util/errors.js";
import { silentLogger, type Logger } from "../../util/log.js";
import { applyOverlay } from "./overlay.js";
import { makePlan, pathsOf, type EmitPlan } from "./plan.js";
import { describeLayer, LayerCheck, type LayerPosition } from "./layer-check.js";
import { Budget, layerError, readLayer, scanLayer, type BodyStore, type ScannedLayer } from "./scan.js";
import { TarSink, type EntrySink } from "./sink.js";
import { displayName, type TarEntry } from "./tar-header.js";
import { TarFormatError, TarReader } from "./tar-reader.js";
import { FlatTree, TreeError } from "./tree.js";
import type { FlattenOptions, FlattenStats, LayerSource, OverlayEntry, RootAttributes } from "./types.js";

export type { FlattenOptions, FlattenStats, LayerSource, OverlayEntry, RootAttributes } from "./types.js";

/** Floor of `storedUnusedLimit`: 64 MiB. */
export const STORED_UNUSED_FLOOR = 64 * 1024 * 1024;

/**
 * How much stored content a single-pass build may leave unused (a later layer deleted or
 * replaced it) before it restarts in two passes: more than max(64 MiB, 1/16 of the stored
 * bytes) restarts. Why: a restart re-reads (inflates) every layer that owns a surviving file,
 * about doubling the build; dead content costs image size in every copy of the SIF. Under the
 * bound the image is at most 1/16 (6 %) larger than needed, or 64 MiB — the package caches and
 * temporary files that `RUN` steps commonly remove; over it (a large download or build tree
 * removed by a later layer) the dead weight is what users flatten to get rid of, and is worth
 * the second read. It depends only on the layers, so the same input always gives the same image.
 *
 * @example
 * ```ts
 * storedUnusedLimit(16 * 2 ** 30); // 1 GiB
 * ```
 */
export function storedUnusedLimit(storedBytes: number): number {
  return Math.max(STORED_UNUSED_FLOOR, Math.floor(storedBytes / 16));
}

/**
 * `out` is a tar stream's Writable, or an entry sink (sink.ts `EntrySink`; one that can store
 * bodies early makes this a single pass over the layers).
 */
export async function flattenLayers(
  layers: readonly LayerSource[],
  overlay: readonly OverlayEntry[],
  out: Writable | EntrySink,
  options: FlattenOptions = {},
): Promise<FlattenStats> {
  const started = process.hrtime.bigint();
  const logger = options.logger ?? silentLogger;
  const budget = new Budget(options);
  const given = "entry" in out ? out : null;
  const store = given?.storeBody ? (given as BodyStore) : undefined;
  // Stored bodies must arrive in layer order (the image layout follows it): one layer at a time.
  const concurrency = store ? 1 : (options.scanConcurrency ?? 2);
  // The tree and plan are reached only through `scanned` and dropped before the sink's `finish()`
  // (which builds its own tables): nothing of them is needed once every entry is emitted.
  const scanned: Partial<Scanned> & Pick<Scanned, "root"> = await scanAndPlan(
    layers,
    overlay,
    budget,
    concurrency,
    logger,
    store,
  );
  const { root } = scanned;
  const bytesStored = scanned.stored?.bytes ?? 0;
  let storedUnused = scanned.stored ? bytesStored - storedBytesUsed(scanned.plan!) : 0;
  let restarted = false;
  if (scanned.stored && given?.restart) {
    const limit = (options.storedUnusedLimit ?? storedUnusedLimit)(bytesStored);
    if (storedUnused > limit) {
      logger.debug(
        `one pass over the layers stored ${storedUnused} of ${bytesStored} content bytes that later layers removed (limit ${limit}): restarting the image in two passes`,
      );
      await given.restart();
      scanned.stored = null;
      storedUnused = 0;
      restarted = true;
    }
  }
  options.onScanned?.(root);
  const sink: EntrySink = given ?? new TarSink(out as Writable, options.onProgress);
  sink.start?.(root);
  const oneReading = Boolean(scanned.stored);
  const skipped = await emitPlan(scanned.plan!, scanned.stored ?? null, layers, sink, budget);
  if (oneReading) {
    logger.debug(
      `one pass over the layers: ${storedUnused} bytes of content stored that later layers removed`,
    );
  }
  delete scanned.plan;
  delete scanned.stored;
  await sink.finish(options.end ?? true);
  return {
    layers: layers.length,
    entriesRead: budget.entries,
    entriesWritten: sink.entries,
    hardlinks: sink.hardlinks,
    bytesRead: budget.bytesRead,
    bytesWritten: sink.bytes,
    layersSkipped: skipped,
    storedUnusedBytes: storedUnused,
    restarted,
    root,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

/** Pass 2: emits the plan; returns how many layers were not read again. */
async function emitPlan(
  plan: EmitPlan,
  stored: StoredBodies | null,
  layers: readonly LayerSource[],
  sink: EntrySink,
  budget: Budget,
): Promise<number> {
  await emitEager(plan, sink);
  let skipped = 0;
  for (let i = 0; i < layers.length; i++) {
    const bodies = plan.bodies.get(i);
    if (stored !== null) await emitStoredBodies(plan, bodies, stored.numbers[i]!, sink);
    else if (bodies === undefined) skipped++;
    else await emitLayerBodies(layers[i]!, { index: i, count: layers.length }, plan, bodies, sink, budget);
  }
  return stored !== null ? layers.length : skipped;
}

interface Scanned {
  plan: EmitPlan;
  root: RootAttributes;
  stored: StoredBodies | null;
}

/** Pass 1 and the overlay: the final tree, turned into an emission plan. */
async function scanAndPlan(
  layers: readonly LayerSource[],
  overlay: readonly OverlayEntry[],
  budget: Budget,
  concurrency: number,
  logger: Logger,
  store: BodyStore | undefined,
): Promise<Scanned> {
  const tree = new FlatTree();
  const stored = await buildTree(tree, layers, budget, concurrency, logger.warning.bind(logger), store);
  try {
    applyOverlay(tree, overlay, layers.length);
  } catch (err) {
    if (err instanceof TreeError) throw new SregistryError(`overlay: ${err.message}`, { code: "USAGE" });
    throw err;
  }
  tree.seal();
  return { plan: makePlan(tree), root: rootAttributes(tree), stored };
}

/** Per layer the stored body number of each entry, and the bytes stored over all layers. */
interface StoredBodies {
  numbers: number[][];
  bytes: number;
}

function rootAttributes(tree: FlatTree): RootAttributes {
  const { mode, uid, gid, mtime } = tree.rootEntry();
  return { mode, uid, gid, mtime };
}

/**
 * Pass 1: scans layers (a few at a time) and applies them to the tree in order: the layer whose
 * turn it is goes into the tree as it is read, the ones read ahead wait in a queue (so at most
 * `concurrency - 1` layers of entries are held, none with one layer at a time). A layer's tree
 * error is raised once it was read to its end (its read errors come first, as before). With `store`,
 * returns per layer the stored body number of each entry (scan.ts `ScannedLayer.stored`).
 */
async function buildTree(
  tree: FlatTree,
  layers: readonly LayerSource[],
  budget: Budget,
  concurrency: number,
  warn: (message: string) => void,
  store: BodyStore | undefined,
): Promise<StoredBodies | null> {
  const scans: Promise<ScannedLayer>[] = [];
  const queues: LayerQueue[] = [];
  const stored = { numbers: [] as number[][], bytes: 0 };
  const startScan = (i: number): void => {
    if (i >= layers.length) return;
    const queue = (queues[i] = new LayerQueue((entry, index) => tree.apply(entry, { layer: i, index })));
    const position = { index: i, count: layers.length };
    scans[i] = scanLayer(layers[i]!, budget, position, (entry, index) => queue.push(entry, index), store);
    // A later layer may fail while an earlier one is still awaited: that rejection must not be
    // "unhandled" (Node would end the process); it is rethrown when its turn comes, if it does.
    scans[i]!.catch(() => {});
  };
  for (let i = 0; i < Math.max(1, concurrency); i++) startScan(i);
  for (let i = 0; i < layers.length; i++) {
    const name = describeLayer(layers[i]!, { index: i, count: layers.length });
    tree.onWarning = (message) => warn(`${name}: ${message}`);
    tree.startLayer(i);
    queues[i]!.start();
    const scanned = await scans[i]!;
    try {
      queues[i]!.rethrow();
    } catch (err) {
      throw layerError(name, err);
    }
    // One pass: the layer's bodies are in the sink, so its blob may go (a restart asks again).
    if (store) await layers[i]!.release?.();
    startScan(i + Math.max(1, concurrency));
    if (scanned.stored !== null) {
      stored.numbers.push(scanned.stored);
      stored.bytes += scanned.storedBytes;
    }
  }
  return store ? stored : null;
}

/**
 * A layer's entries on their way to the tree: held until the layer's turn, then applied as read.
 * A tree error is kept until the layer has been read to its end (`rethrow()`), so that, as when
 * whole layers were applied after reading, a read error of the layer (a digest mismatch, a limit)
 * is the one reported; entries after the error are not applied.
 */
class LayerQueue {
  private held: TarEntry[] | null = [];
  private failure: { error: unknown } | null = null;

  constructor(private readonly apply: (entry: TarEntry, index: number) => void) {}

  push(entry: TarEntry, index: number): void {
    if (this.held === null) this.applyOne(entry, index);
    else this.held.push(entry);
  }

  /** The layer's turn: applies what was held, and from now on every entry as it comes. */
  start(): void {
    const held = this.held ?? [];
    this.held = null;
    for (let index = 0; index < held.length; index++) this.applyOne(held[index]!, index);
  }

  /** Throws the first error the tree raised for this layer, if any. */
  rethrow(): void {
    if (this.failure !== null) throw this.failure.error;
  }

  private applyOne(entry: TarEntry, index: number): void {
    if (this.failure !== null) return;
    try {
      this.apply(entry, index);
    } catch (error) {
      this.failure = { error };
    }
  }
}

/** Writes everything whose content is known without reading a layer. */
async function emitEager(plan: EmitPlan, sink: EntrySink): Promise<void> {
  const { tree } = plan;
  for (const node of plan.dirs) {
    const path = tree.path(node);
    sink.entry(tree.inodes.entry(tree.inode(node), path), path);
    await sink.drain();
  }
  for (const node of plan.eager) {
    const inode = tree.inode(node);
    const paths = pathsOf(plan, node);
    const entry = tree.inodes.entry(inode, paths[0]!);
    const content = tree.inodes.content(inode);
    sink.entry(entry, paths[0]!);
    if (content !== null && entry.type === "file") {
      sink.body(content);
      sink.endBody(content.length);
    }
    sink.links(entry, paths);
    await sink.drain();
  }
}

/** Content bytes of the files the plan writes from the layers (each inode once). */
function storedBytesUsed(plan: EmitPlan): number {
  let used = 0;
  for (const bodies of plan.bodies.values()) {
    for (const node of bodies) used += plan.tree.inodes.size(plan.tree.inode(node));
  }
  return used;
}

/**
 * The one-pass form of `emitLayerBodies`: the layer's surviving bodies were stored in pass 1, so
 * their entries only name them.
 */
async function emitStoredBodies(
  plan: EmitPlan,
  bodies: Uint32Array | undefined,
  stored: readonly number[],
  sink: EntrySink,
): Promise<void> {
  const { inodes } = plan.tree;
  for (const node of bodies ?? []) {
    const inode = plan.tree.inode(node);
    const index = inodes.index(inode);
    const number = stored[index]!;
    if (number < 0) throw new Error(`no stored body for entry ${index}`);
    const paths = pathsOf(plan, node);
    const entry = inodes.entry(inode, paths[0]!);
    sink.entry(entry, paths[0]!, number);
    sink.links(entry, paths);
    await sink.drain();
  }
}

/** Pass 2 for one layer: streams the surviving bodies it owns, then stops reading. */
async function emitLayerBodies(
  layer: LayerSource,
  position: LayerPosition,
  plan: EmitPlan,
  bodies: Uint32Array,
  sink: EntrySink,
  budget: Budget,
): Promise<void> {
  const { inodes } = plan.tree;
  let next = 0;
  let remaining = bodies.length;
  let current: { entry: TarEntry; paths: string[] } | null = null;
  const reader = new TarReader(
    {
      onEntry(entry) {
        const node = bodies[next];
        const inode = node === undefined ? undefined : plan.tree.inode(node);
        if (inode === undefined || inodes.index(inode) !== reader.entries - 1) return false;
        next++;
        if (
          entry.type !== "file" ||
          entry.size !== inodes.size(inode) ||
          !inodes.nameMatches(inode, entry.name)
        ) {
          throw new TarFormatError(`layer content changed between reads at ${displayName(entry.name)}`);
        }
        const paths = pathsOf(plan, node!);
        current = { entry: inodes.entry(inode, paths[0]!), paths };
        sink.entry(current.entry, paths[0]!);
        return true;
      },
      onData: (chunk) => sink.body(chunk),
      onEntryEnd() {
        sink.endBody(current!.entry.size);
        sink.links(current!.entry, current!.paths);
        current = null;
        remaining--;
      },
    },
    { maxPaxHeaderBytes: budget.maxPaxHeaderBytes },
  );
  const check = new LayerCheck(layer, position, budget.inflateLimit, false);
  // A blob released after the first pass (a pull without a cache) is fetched and verified again.
  await layer.ready?.();
  await readLayer(layer, position, async (stream) => {
    for await (const chunk of stream) {
      check.update(chunk as Buffer);
      budget.bytesRead += (chunk as Buffer).length;
      reader.push(chunk as Buffer);
      await sink.drain();
      if (remaining === 0) return;
    }
    reader.end();
    if (remaining > 0) throw new TarFormatError("layer ended before all its files were read again");
  });
  await layer.release?.();
}
