/**
 * The build runs while the layers download (pull/pipeline.ts `downloadAndBuild`), driven by events,
 * never by clocks, through the library's `pull` against a local registry whose front holds blobs
 * back:
 * - the last layer's body is held until the build has reported content from layer 0: the pull
 *   only finishes if the build started before the last layer arrived;
 * - layers arriving in reverse order (layer 0 held until the last one is in the cache), and all
 *   layers cached before the pull (no overlap), give the same SIF byte for byte, with the native
 *   writer and with tar2sqfs;
 * - a last layer that fails its digest after the build started (its temporary SIF exists) fails
 *   the pull with DIGEST_MISMATCH and leaves no SIF, no temporary file and no catalog row.
 * A hold that is never released by its event is released by a hang guard, and the test then
 * fails on which one released it.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-overlap
 * ```
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Context } from "../../src/api/context.js";
import { pull } from "../../src/api/pull.js";
import type { PullEvent } from "../../src/pull/events.js";
import type { PullOptions } from "../../src/pull/job.js";
import { isolatedEnv } from "../harness/cli.js";
import { pushImage, randomBytes, type FixtureImage } from "../harness/fixtures.js";
import { dockerEnv } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

const IMAGE = "docker://library/layers:1";
/** Only a hang guard: every hold is meant to be released by an event long before. */
const HANG_GUARD_MS = 120_000;

function layeredImage(): FixtureImage {
  const layer = (n: number) => ({
    entries: [
      { path: `data${n}`, type: "dir" as const },
      { path: `data${n}/random.bin`, type: "file" as const, content: randomBytes(400_000, n) },
      { path: `data${n}/text.txt`, type: "file" as const, content: Buffer.from(`layer ${n}\n`.repeat(5000)) },
      { path: "shared.txt", type: "file" as const, content: Buffer.from(`written by layer ${n}\n`) },
    ],
  });
  return { layers: [layer(0), layer(1), layer(2), layer(3)] };
}

/** A promise released by an event, or by the hang guard; `by` says which. */
class Hold {
  by: "event" | "guard" | undefined;
  readonly released: Promise<void>;
  private open!: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.released = new Promise((resolve) => (this.open = resolve));
    this.timer = setTimeout(() => this.release("guard"), HANG_GUARD_MS).unref();
  }

  release(by: "event" | "guard" = "event"): void {
    if (this.by !== undefined) return;
    this.by = by;
    clearTimeout(this.timer);
    this.open();
  }
}

/** Holds GETs of `digest`'s blob until `hold` is released, then serves them (`serve`, or the registry). */
function holdBlob(
  digest: string,
  hold: Hold,
  serve?: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (req.method !== "GET" || !(req.url ?? "").endsWith(`/blobs/${digest}`)) return false;
    await hold.released;
    if (!serve) return false;
    await serve(req, res);
    return true;
  };
}

/** True once the build has reported file content (the native writer reports it while reading). */
function buildProgressed(events: PullEvent[]): boolean {
  return events.some((event) => event.type === "build-progress" && event.bytes > 0);
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

describe("pull: the build overlaps the download", () => {
  let server: RegistryServer;
  let tmp: TmpDir;
  let digests: string[];
  let homes = 0;

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    tmp = await tmpDir("pull-overlap-");
    const pushed = await pushImage(server, "library/layers:1", layeredImage());
    digests = pushed.layout.images[0]!.layers.map((layer) => layer.digest);
  });

  after(async () => {
    server.intercept = undefined;
    await server?.stop();
    await tmp?.cleanup();
  });

  /** A fresh HOME (cold cache, empty catalog) and its context. */
  function freshContext(): { ctx: Context; home: string } {
    const home = join(tmp.path, `home${homes++}`);
    return { ctx: new Context({ env: { ...isolatedEnv(home), ...dockerEnv(server) }, home }), home };
  }

  async function pullTo(ctx: Context, file: string, options: PullOptions = {}): Promise<Buffer> {
    await pull(ctx, IMAGE, { noCache: true, name: file, threads: digests.length, ...options });
    return readFile(file);
  }

  it("reads layer 0 while the last layer is held back, and builds the same SIF in any arrival order", async () => {
    const last = digests.at(-1)!;
    // 1. The last layer's body waits for the build's first content.
    const overlapped = freshContext();
    const lastHeld = new Hold();
    const events: PullEvent[] = [];
    server.intercept = holdBlob(last, lastHeld);
    const onEvent = (event: PullEvent): void => {
      events.push(event);
      if (buildProgressed(events)) lastHeld.release();
    };
    const first = await pullTo(overlapped.ctx, join(overlapped.home, "overlapped.sif"), { onEvent });
    assert.equal(lastHeld.by, "event", "the build read layer 0 before the last layer was served");
    const lastDone = events.findIndex((e) => e.type === "layer-done" && e.digest === last);
    const built = events.findIndex((e) => e.type === "build-progress" && e.bytes > 0);
    assert.ok(built >= 0 && built < lastDone, "build progress came before the last layer's download ended");
    const stages = events.filter((e) => e.type === "stage").map((e) => (e as { stage: string }).stage);
    assert.deepEqual(stages, ["resolve", "download", "build", "store"]);

    // 2. Reverse arrival: layer 0 waits until the last layer is in the cache.
    const reversed = freshContext();
    const firstHeld = new Hold();
    server.intercept = holdBlob(digests[0]!, firstHeld);
    const reverse = await pullTo(reversed.ctx, join(reversed.home, "reversed.sif"), {
      onEvent: (event) => {
        if (event.type === "layer-done" && event.digest === last) firstHeld.release();
      },
    });
    assert.equal(firstHeld.by, "event");
    server.intercept = undefined;
    assert.ok(reverse.equals(first), "reverse arrival order gives the same bytes");

    // 3. Everything cached already: no overlap at all.
    const cached = await pullTo(reversed.ctx, join(reversed.home, "cached.sif"));
    assert.ok(cached.equals(first), "a build from a warm cache gives the same bytes");
  });

  it("gives tar2sqfs the same tar whatever order the layers arrive in", async () => {
    const last = digests.at(-1)!;
    const reversed = freshContext();
    const firstHeld = new Hold();
    server.intercept = holdBlob(digests[0]!, firstHeld);
    const options = { builder: "tar2sqfs" as const };
    const reverse = await pullTo(reversed.ctx, join(reversed.home, "reversed.sif"), {
      ...options,
      onEvent: (event) => {
        if (event.type === "layer-done" && event.digest === last) firstHeld.release();
      },
    });
    server.intercept = undefined;
    assert.equal(firstHeld.by, "event");
    const cached = await pullTo(reversed.ctx, join(reversed.home, "cached.sif"), options);
    assert.ok(reverse.equals(cached), "the tool's image does not depend on the arrival order");
  });

  it("fails on a late layer with a bad digest after the build started, leaving nothing behind", async () => {
    const last = digests.at(-1)!;
    const { ctx } = freshContext();
    const storage = ctx.settings.storageDir;
    const lastHeld = new Hold();
    const events: PullEvent[] = [];
    let buildFiles: string[] = [];
    server.intercept = holdBlob(last, lastHeld, async (req, res) => {
      buildFiles = await filesUnder(storage);
      const upstream = await server.adminFetch(req.url ?? "");
      const body = Buffer.from(await upstream.arrayBuffer());
      body[body.length >> 1]! ^= 0xff; // same size, other digest
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      res.end(body);
    });
    const onEvent = (event: PullEvent): void => {
      events.push(event);
      if (buildProgressed(events)) lastHeld.release();
    };
    try {
      await assert.rejects(pull(ctx, IMAGE, { threads: digests.length, onEvent }), (err: Error) => {
        assert.equal((err as { code?: string }).code, "DIGEST_MISMATCH", err.message);
        assert.ok(err.message.includes(last), err.message);
        return true;
      });
      assert.equal(lastHeld.by, "event");
      assert.ok(
        buildFiles.some((file) => file.includes(".sregistry-tmp")),
        `the temporary SIF existed while the last layer downloaded: ${buildFiles.join(", ")}`,
      );
      assert.deepEqual(await filesUnder(storage), [], "no SIF and no temporary file");
      assert.deepEqual(await ctx.catalog().listContainers(), [], "no catalog row");
      assert.ok(!events.some((e) => e.type === "stage" && e.stage === "store"));
    } finally {
      server.intercept = undefined;
      ctx.close();
    }
  });
});
