import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  acquireLease,
  acquireLeaseSync,
  isLeaseExpired,
  readLeaseSync,
  tryTakeLease,
  type LeaseInfo,
} from "./lease-lock.js";

describe("lease locks", { timeout: 20_000 }, () => {
  let dir: string;
  let n = 0;
  const lockPath = () => join(dir, `l${++n}.lock`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sregistry-lease-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const foreign = (fields: Partial<LeaseInfo>): string =>
    JSON.stringify({
      pid: 1,
      hostname: "node042.cluster.example",
      token: "f0f0",
      created: Date.now() - 10_000,
      expires: Date.now() + 60_000,
      ...fields,
    });

  it("is exclusive, records host, pid and expiry, and leaves no scratch file", () => {
    const path = lockPath();
    const lease = tryTakeLease(path, { leaseMs: 30_000 });
    assert.ok(lease);
    assert.equal(tryTakeLease(path), undefined);
    const info = readLeaseSync(path)?.info;
    assert.equal(info?.hostname, hostname());
    assert.equal(info?.pid, process.pid);
    assert.ok(Math.abs(info!.expires - (Date.now() + 30_000)) < 5_000);
    lease.release();
    assert.equal(readLeaseSync(path), undefined);
    return readdir(dir).then((names) => assert.deepEqual(names, []));
  });

  it("renewal pushes the expiry forward while held, and stops once the lock was taken over", () => {
    let now = 1_000_000;
    const path = lockPath();
    const lease = tryTakeLease(path, { leaseMs: 1_000, now: () => now });
    assert.ok(lease);
    now += 900;
    assert.equal(lease.renew(), true);
    assert.equal(readLeaseSync(path)?.info?.expires, now + 1_000);
    // Another process broke it after expiry and holds it now: renewing must not overwrite theirs.
    return writeFile(path, foreign({ token: "theirs" })).then(() => {
      assert.equal(lease.renew(), false);
      lease.release();
      assert.equal(readLeaseSync(path)?.info?.token, "theirs", "release leaves the new holder's lock");
    });
  });

  it("a pid means something only on its own host; a lease from elsewhere ends at its expiry", () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const now = Date.now();
    const state = (info: Partial<LeaseInfo>) => ({
      info: JSON.parse(foreign(info)) as LeaseInfo,
      mtimeMs: now,
    });
    assert.equal(isLeaseExpired(state({ pid: dead })), false, "dead pid on another host: wait for the lease");
    assert.equal(isLeaseExpired(state({ pid: dead, expires: now - 1 })), true);
    assert.equal(isLeaseExpired(state({ pid: dead, hostname: hostname() })), true);
    assert.equal(isLeaseExpired(state({ pid: process.pid, hostname: hostname() })), false);
  });

  it("takes over an expired lease of another host, and waits for a live one", async () => {
    const path = lockPath();
    await writeFile(path, foreign({ expires: Date.now() - 1 }));
    const broken: string[] = [];
    const lease = await acquireLease(path, { onBreak: (s) => void broken.push(s.info!.hostname) });
    assert.ok(lease);
    assert.deepEqual(broken, ["node042.cluster.example"]);
    lease.release();

    await writeFile(path, foreign({ expires: Date.now() + 300 }));
    const started = Date.now();
    const later = await acquireLease(path, { pollMs: 20, maxPollMs: 50 });
    assert.ok(later);
    assert.ok(Date.now() - started >= 250, "waited for the lease to run out");
    later.release();
  });

  it("synchronous acquire gives up with one line naming the lock and its holder", async () => {
    const path = lockPath();
    await writeFile(path, foreign({}));
    assert.throws(
      () => acquireLeaseSync(path, { timeoutMs: 100, pollMs: 10 }),
      (err: Error & { code?: string }) =>
        err.code === "LOCK_TIMEOUT" &&
        err.message.includes(path) &&
        err.message.includes("host node042.cluster.example (pid 1)") &&
        !err.message.includes("\n"),
    );
  });

  it("writes the lock with the mode asked for, whatever the umask", async () => {
    const path = lockPath();
    const old = process.umask(0o077);
    try {
      const lease = tryTakeLease(path, { fileMode: 0o640 });
      assert.ok(lease);
      assert.equal((await stat(path)).mode & 0o777, 0o640);
      assert.ok(lease.renew());
      assert.equal((await stat(path)).mode & 0o777, 0o640, "renewal keeps the mode");
      lease.release();
    } finally {
      process.umask(old);
    }
  });
});
