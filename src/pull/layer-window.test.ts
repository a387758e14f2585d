import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BlobStore } from "../cache/blob-store.js";
import type { Descriptor } from "../oci/types.js";
import { LayerWindow, windowBytes } from "./layer-window.js";

const digest = (n: number): `sha256:${string}` => `sha256:${n.toString(16).padStart(64, "0")}`;
const layer = (n: number, size = 10): Descriptor => ({
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  digest: digest(n),
  size,
});

/** True once `promise` settled (checked after the pending callbacks ran). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("LayerWindow", () => {
  let parent: string;
  let store: BlobStore;

  before(async () => {
    parent = await mkdtemp(join(tmpdir(), "sregistry-window-"));
    store = await BlobStore.temporary(parent);
  });

  after(async () => {
    await store.dispose();
    await rm(parent, { recursive: true, force: true });
  });

  async function put(d: string): Promise<void> {
    await mkdir(dirname(store.path(d)), { recursive: true });
    await writeFile(store.path(d), "blob");
  }

  it("admits a layer as large as the largest once the one before it is released (its blob deleted first)", async () => {
    const layers = [layer(1), layer(2), layer(3)];
    const window = new LayerWindow(layers, store, async () => assert.fail("nothing is fetched again"));
    const signal = new AbortController().signal;
    assert.equal(await settled(window.admit(digest(1), signal)), true);
    const second = window.admit(digest(2), signal);
    const third = window.admit(digest(3), signal);
    assert.equal(await settled(second), false, "layer 1 waits: two layers are more than the largest");
    await put(digest(1));
    await window.release(0);
    assert.equal(await store.has(digest(1)), false, "layer 0's blob is gone");
    assert.equal(await settled(second), true);
    assert.equal(await settled(third), false, "layer 2 waits for layer 1's release");
    await window.release(1);
    assert.equal(await settled(third), true);
  });

  it("lets small layers download beside the one being read, within the largest layer's size", async () => {
    // Budget 10 (the largest layer): 4 + 3 + 3 fit at once; 6 fits beside one 3 only; 10 alone.
    const layers = [layer(11, 4), layer(12, 3), layer(13, 3), layer(14, 6), layer(15, 10)];
    const window = new LayerWindow(layers, store, async () => {});
    const signal = new AbortController().signal;
    const admits = layers.map((l) => window.admit(l.digest, signal));
    const state = async () => Promise.all(admits.map((a) => settled(a)));
    assert.deepEqual(await state(), [true, true, true, false, false]);
    await window.release(0);
    assert.deepEqual(await state(), [true, true, true, false, false], "3 + 3 + 6 > 10");
    await window.release(1);
    assert.deepEqual(await state(), [true, true, true, true, false], "3 + 6 ≤ 10");
    await window.release(2);
    assert.deepEqual(await state(), [true, true, true, true, false], "6 + 10 > 10");
    await window.release(3);
    assert.deepEqual(await state(), [true, true, true, true, true]);
  });

  it("downloads a layer of unknown size only when nothing else is held", async () => {
    const layers = [layer(21, 8), layer(22, -1), layer(23, 1)];
    const window = new LayerWindow(layers, store, async () => {});
    const signal = new AbortController().signal;
    const admits = layers.map((l) => window.admit(l.digest, signal));
    const state = async () => Promise.all(admits.map((a) => settled(a)));
    assert.deepEqual(await state(), [true, false, false]);
    await window.release(0);
    assert.deepEqual(await state(), [true, true, false], "nothing may join a blob of unknown size");
    await window.release(1);
    assert.deepEqual(await state(), [true, true, true]);
  });

  it("never waits forever behind a blob kept for a later position", async () => {
    // Position 2 repeats position 0's blob (kept until then): 9 + 10 > 10, yet layer 1 must come.
    const layers = [layer(31, 9), layer(32, 10), layer(31, 9)];
    const window = new LayerWindow(layers, store, async () => {});
    const signal = new AbortController().signal;
    const second = window.admit(digest(32), signal);
    assert.equal(await settled(second), false);
    await window.release(0);
    assert.equal(await settled(second), true, "the build waits for layer 1: it is admitted");
  });

  it("walks a schema 1 image (no sizes, the empty layer repeated) one layer at a time to the end", async () => {
    const layers = [layer(41, -1), layer(42, -1), layer(43, -1), layer(42, -1), layer(44, -1), layer(42, -1)];
    const window = new LayerWindow(layers, store, async () => {});
    const signal = new AbortController().signal;
    const admits = [41, 42, 43, 44].map((n) => window.admit(digest(n), signal));
    const state = async () => Promise.all(admits.map((a) => settled(a)));
    assert.deepEqual(await state(), [true, false, false, false]);
    await window.release(0);
    assert.deepEqual(await state(), [true, true, false, false]);
    await window.release(1); // 42 stays: positions 3 and 5 read it again
    assert.deepEqual(await state(), [true, true, true, false], "admitted beside the kept blob");
    await window.release(2);
    await window.release(3);
    assert.deepEqual(await state(), [true, true, true, true]);
  });

  it("counts a blob fetched again, and frees it again on its release", async () => {
    const layers = [layer(51, 10), layer(52, 10)];
    const window = new LayerWindow(layers, store, async (again) => put(again.digest));
    const signal = new AbortController().signal;
    const second = window.admit(digest(52), signal);
    await put(digest(51));
    await window.release(0);
    assert.equal(await settled(second), true);
    await put(digest(52));
    await window.release(1);
    await window.ensure(0); // a restart's second pass
    assert.equal(await store.has(digest(51)), true);
    await window.release(0);
    assert.equal(await store.has(digest(51)), false, "deleted again after its second read");
  });

  it("keeps a blob a later position reads again, and fetches a deleted one again when asked", async () => {
    // Schema 1 repeats a layer: positions 0 and 2 are one blob.
    const layers = [layer(5), layer(6), layer(5), layer(7)];
    const fetched: string[] = [];
    const window = new LayerWindow(layers, store, async (again) => {
      fetched.push(again.digest);
      await put(again.digest);
    });
    const signal = new AbortController().signal;
    await put(digest(5));
    await window.release(0);
    assert.equal(await store.has(digest(5)), true, "position 2 still needs it");
    assert.equal(await settled(window.admit(digest(7), signal)), false, "layer 7 waits for position 1");
    await window.ensure(2);
    assert.deepEqual(fetched, [], "a kept blob is not fetched again");
    await window.release(2);
    assert.equal(await store.has(digest(5)), false);
    await window.ensure(0); // a second pass reads position 0 again
    assert.deepEqual(fetched, [digest(5)]);
    assert.equal(await store.has(digest(5)), true);
    await window.ensure(0);
    assert.deepEqual(fetched, [digest(5)], "fetched once per deletion");
  });

  it("stops waiting when the pull is aborted", async () => {
    const window = new LayerWindow([layer(8), layer(9), layer(10)], store, async () => {});
    const abort = new AbortController();
    const waiting = window.admit(digest(10), abort.signal);
    abort.abort(new Error("build failed"));
    await assert.rejects(waiting, /build failed/);
    await assert.rejects(window.admit(digest(10), abort.signal), /build failed/);
  });

  it("windowBytes is the largest layer", () => {
    assert.equal(windowBytes([]), 0);
    assert.equal(windowBytes([layer(1, 5)]), 5);
    assert.equal(windowBytes([layer(1, 5), layer(2, 1), layer(3, 7), layer(4, 2)]), 7);
    assert.equal(windowBytes([layer(1, -1), layer(2, 4)]), 4);
  });
});
