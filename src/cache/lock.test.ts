import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { acquireLock, breakLock, isLockStale, readLock, tryCreateLock } from "./lock.js";

describe("lock files", { timeout: 60_000 }, () => {
  let dir: string;
  let n = 0;
  const lockPath = () => join(dir, `l${++n}.lock`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sregistry-lock-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("is exclusive, records who holds it, and is released only by its holder", async () => {
    const path = lockPath();
    const held = await tryCreateLock(path);
    assert.ok(held);
    assert.equal(await tryCreateLock(path), undefined);
    const state = await readLock(path);
    assert.deepEqual(
      { pid: state?.info?.pid, hostname: state?.info?.hostname, token: state?.info?.token },
      { pid: process.pid, hostname: hostname(), token: held.token },
    );
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await held.release();
    assert.equal(await readLock(path), undefined);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith(`l${n}.`)),
      [],
      "no scratch files are left",
    );
  });

  it("keeps a live holder's lock fresh with a heartbeat", { timeout: 30_000 }, async () => {
    const path = lockPath();
    const held = await tryCreateLock(path, { heartbeatMs: 20 });
    assert.ok(held);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path, old, old);
    // Wait for the next heartbeat (the test's timeout is the hang guard): it renews the lock.
    while ((await stat(path)).mtimeMs <= old.getTime() + 1000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok((await stat(path)).mtimeMs > old.getTime() + 3_000_000, "renewed to about now");
    await held.release();
  });

  it("judges staleness by dead pid on this host or by age elsewhere", () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const now = Date.now();
    const info = (pid: number, host: string) => ({ pid, hostname: host, token: "t", created: now });
    assert.equal(isLockStale({ info: info(dead, hostname()), mtimeMs: now }), true);
    assert.equal(isLockStale({ info: info(process.pid, hostname()), mtimeMs: now }), false);
    assert.equal(isLockStale({ info: info(dead, "other-host"), mtimeMs: now }), false);
    assert.equal(
      isLockStale({ info: info(dead, "other-host"), mtimeMs: now - 10_000 }, { staleMs: 5_000 }),
      true,
    );
    assert.equal(isLockStale({ info: undefined, mtimeMs: now }), false);
  });

  it("does not steal a fresh lock that replaced the stale one it meant to break", async () => {
    const path = lockPath();
    await writeFile(path, JSON.stringify({ pid: 1, hostname: "x", token: "old", created: 0 }));
    const stale = (await readLock(path))!;
    await rm(path);
    const fresh = await tryCreateLock(path);
    assert.ok(fresh);
    assert.equal(await breakLock(path, stale), false);
    assert.equal((await readLock(path))?.info?.token, fresh.token, "the fresh lock is back in place");
    await fresh.release();
  });

  it("waits for a holder and takes over once it releases", async () => {
    const path = lockPath();
    const first = await tryCreateLock(path);
    assert.ok(first);
    let polls = 0;
    const second = acquireLock(path, {
      pollMs: 5,
      isDone: async () => {
        polls++;
        // Release only once the waiter has polled, so the test does not depend on timer precision.
        if (polls === 2) void first.release();
        return false;
      },
    });
    const held = await second;
    assert.ok(held && held.token !== first.token);
    assert.ok(polls >= 2, `polled ${polls} times`);
    await held.release();
  });

  it("stops waiting when the work is done or the signal aborts", async () => {
    const path = lockPath();
    const holder = await tryCreateLock(path);
    assert.ok(holder);
    assert.equal(await acquireLock(path, { pollMs: 5, isDone: async () => true }), undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(acquireLock(path, { pollMs: 5, signal: controller.signal }), { name: "AbortError" });
    await holder.release();
  });
});
