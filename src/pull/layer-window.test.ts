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

  it("admits layer k once layer k - 2 is released (its blob deleted first)", async () => {
    const layers = [layer(1), layer(2), layer(3), layer(4)];
    const window = new LayerWindow(layers, store, async () => assert.fail("nothing is fetched again"));
    const signal = new AbortController().signal;
    assert.equal(await settled(window.admit(digest(1), signal)), true);
    assert.equal(await settled(window.admit(digest(2), signal)), true);
    const third = window.admit(digest(3), signal);
    const fourth = window.admit(digest(4), signal);
    assert.equal(await settled(third), false, "layer 2 waits for layer 0's release");
    await put(digest(1));
    await window.release(0);
    assert.equal(await store.has(digest(1)), false, "layer 0's blob is gone");
    assert.equal(await settled(third), true);
    assert.equal(await settled(fourth), false, "layer 3 waits for layer 1's release");
    await window.release(1);
    assert.equal(await settled(fourth), true);
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

  it("windowBytes is the two largest consecutive layers", () => {
    assert.equal(windowBytes([]), 0);
    assert.equal(windowBytes([layer(1, 5)]), 5);
    assert.equal(windowBytes([layer(1, 5), layer(2, 1), layer(3, 7), layer(4, 2)]), 9);
    assert.equal(windowBytes([layer(1, -1), layer(2, 4)]), 4);
  });
});
