/**
 * The network timeouts as settings, proven with small values (no assertion on elapsed time):
 *
 * - SREGISTRY_MIRROR_TIMEOUT=0.2: a mirror that accepts connections and never answers is abandoned
 *   and the pull succeeds from the registry; `--debug` names the mirror and the deadline.
 * - SREGISTRY_STALL_TIMEOUT=0.2: a registry that sends half of a blob and then goes silent fails
 *   the pull with one ERROR line, "… failed after 4 attempts: socket idle for 200 ms"; one that never
 *   answers with headers fails it with "no response from <host> within 0.2 s (4 attempts)".
 * - A malformed value stops the command with one line naming the variable.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/pull-timeouts
 * ```
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { runCli } from "../harness/cli.js";
import { pushImage, randomBytes } from "../harness/fixtures.js";
import { dockerEnv, successPath } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";

describe("network timeouts as settings", () => {
  let server: RegistryServer;
  let wedged: { host: string; accepted: () => number; close(): Promise<void> };
  const held = new Set<ServerResponse>();

  before(async () => {
    server = await startRegistry({ auth: "anonymous" });
    await pushImage(server, "library/timeouts:1", {
      layers: [{ entries: [{ path: "data.bin", content: randomBytes(200_000, 7) }] }],
    });
    wedged = await holdConnections();
  });

  after(async () => {
    server.intercept = undefined;
    for (const res of held) res.destroy();
    await wedged?.close();
    await server?.stop();
  });

  it("abandons a mirror that never answers after SREGISTRY_MIRROR_TIMEOUT and pulls from the registry", async () => {
    const result = await runCli(["--debug", "pull", "docker://library/timeouts:1"], {
      env: {
        ...dockerEnv(server),
        SREGISTRY_MIRRORS: `${server.host}=http://${wedged.host}`,
        SREGISTRY_MIRROR_TIMEOUT: "0.2",
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(successPath(result.stdout));
    assert.ok(wedged.accepted() >= 1, "the wedged mirror was tried");
    const skipped = result.stderr.split("\n").filter((l) => l.includes(`mirror ${wedged.host} failed`));
    assert.ok(skipped.length >= 1, result.stderr);
    assert.match(skipped[0]!, /within 200 ms/);
  });

  it("fails a registry that stalls mid-body after SREGISTRY_STALL_TIMEOUT, in one line", async () => {
    server.intercept = async (req, res) => {
      if (req.method !== "GET" || !(req.url ?? "").includes("/blobs/")) return false;
      const upstream = await server.adminFetch(req.url!);
      const body = Buffer.from(await upstream.arrayBuffer());
      if (body.length < 1000) {
        res.writeHead(upstream.status, { "content-length": String(body.length) });
        res.end(body);
        return true;
      }
      // Half of the layer, then silence with the connection left open.
      held.add(res);
      res.on("close", () => held.delete(res));
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(body.length),
      });
      res.write(body.subarray(0, body.length >> 1));
      return true;
    };
    try {
      const result = await runCli(["pull", "docker://library/timeouts:1"], {
        env: { ...dockerEnv(server), SREGISTRY_STALL_TIMEOUT: "0.2" },
      });
      assert.notEqual(result.code, 0);
      const errors = result.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
      assert.equal(errors.length, 1, result.stderr);
      assert.match(errors[0]!, /failed after \d+ attempts: socket idle for 200 ms$/);
    } finally {
      server.intercept = undefined;
      for (const res of held) res.destroy();
    }
  });

  it("fails a registry that never answers with headers after SREGISTRY_STALL_TIMEOUT, in one line", async () => {
    server.intercept = (req, res) => {
      if (!(req.url ?? "").includes("/manifests/")) return false;
      held.add(res);
      res.on("close", () => held.delete(res));
      return true;
    };
    try {
      const result = await runCli(["pull", "docker://library/timeouts:1"], {
        env: { ...dockerEnv(server), SREGISTRY_STALL_TIMEOUT: "0.2" },
      });
      assert.notEqual(result.code, 0);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0]!,
        new RegExp(`no response from ${escape(server.host)} within 0\\.2 s \\(\\d+ attempts\\)`),
      );
    } finally {
      server.intercept = undefined;
      for (const res of held) res.destroy();
    }
  });

  it("refuses a malformed timeout in one line naming the variable", async () => {
    const result = await runCli(["pull", "docker://library/timeouts:1"], {
      env: { ...dockerEnv(server), SREGISTRY_STALL_TIMEOUT: "30s" },
    });
    assert.notEqual(result.code, 0);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /SREGISTRY_STALL_TIMEOUT must be a number of seconds above 0/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A TCP listener on 127.0.0.1 that accepts connections and never answers (a wedged mirror). */
async function holdConnections(): Promise<{ host: string; accepted: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
