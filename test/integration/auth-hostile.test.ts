/**
 * Credential safety through the CLI, against small hostile registries on loopback: a token realm
 * on another host (127.0.0.2) never sees the NGC key, a wrong key from the environment is not
 * saved and the error says where the failing key came from, and a plain-http registry without the
 * insecure setting gets one clear line, with `--insecure` as the way out (pull, record, search).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedEnv, runCliInProcess } from "../harness/cli.js";
import { startFakeServer, type FakeServer } from "../../src/registry/fake-server.testing.js";

const GOOD_KEY = "nvapi-good-key-0123456789";
const WRONG_KEY = "nvapi-wrong-key-9876543210";
const basic = (key: string) => "Basic " + Buffer.from(`$oauthtoken:${key}`).toString("base64");

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function freshHome(): { home: string; env: Record<string, string> } {
  const home = mkdtempSync(join(tmpdir(), "sregistry-auth-"));
  dirs.push(home);
  return { home, env: isolatedEnv(home) };
}

/** An nvcr.io-like registry whose challenge names `realm()`; its own /token accepts GOOD_KEY only. */
async function startRegistry(realm: (self: FakeServer) => string): Promise<FakeServer> {
  const server: FakeServer = await startFakeServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      if (req.headers.authorization !== basic(GOOD_KEY)) {
        res.writeHead(401, { "content-type": "application/json" });
        return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      }
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ token: "good-token", expires_in: 300 }));
    }
    if (req.headers.authorization !== "Bearer good-token") {
      res.writeHead(401, { "www-authenticate": `Bearer realm="${realm(server)}"` });
      return res.end();
    }
    if (url.pathname.endsWith("/tags/list")) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ name: "nvidia/app", tags: ["1", "2"] }));
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  return server;
}

function nvidiaEnv(
  env: Record<string, string>,
  registry: FakeServer,
  insecure = true,
): Record<string, string> {
  return {
    ...env,
    SREGISTRY_NVIDIA_BASE: registry.host,
    ...(insecure ? { SREGISTRY_NVIDIA_NOHTTPS: "yes" } : {}),
  };
}

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.includes("ERROR"));
}

test("a realm on another host never receives the NGC key; one line names it and how to trust it", async () => {
  let connections = 0;
  const other = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.2", resolve));
  const otherHost = `127.0.0.2:${(other.address() as net.AddressInfo).port}`;
  const { home, env } = freshHome();
  try {
    for (const scheme of ["http", "https"]) {
      const registry = await startRegistry(() => `${scheme}://${otherHost}/token`);
      try {
        const run = await runCliInProcess(["pull", "nvidia://nvidia/app:1"], {
          ...nvidiaEnv(env, registry),
          SREGISTRY_NVIDIA_TOKEN: GOOD_KEY,
        });
        assert.notEqual(run.code, 0);
        const errors = errorLines(run.stderr);
        assert.equal(errors.length, 1, run.stderr);
        assert.ok(errors[0]!.includes(otherHost), errors[0]);
        if (scheme === "https")
          assert.ok(errors[0]!.includes(`SREGISTRY_TRUSTED_REALMS=${otherHost}`), errors[0]);
        assert.ok(!(run.stdout + run.stderr).includes(GOOD_KEY));
        for (const r of registry.requests) assert.equal(r.headers.authorization, undefined);
      } finally {
        await registry.close();
      }
    }
    assert.equal(connections, 0, "the other host was contacted");
    assert.equal(existsSync(join(home, ".sregistry")), false, "an unused key was saved");
  } finally {
    await new Promise<void>((resolve) => other.close(() => resolve()));
  }
});

test("a wrong key from the environment is not saved; errors name where the failing key came from", async () => {
  const registry = await startRegistry((self) => `${self.url}/token`);
  const { home, env } = freshHome();
  const secretsPath = join(home, ".sregistry");
  const pull = (extra: Record<string, string>) =>
    runCliInProcess(["pull", "nvidia://nvidia/app:1"], { ...nvidiaEnv(env, registry), ...extra });
  try {
    const wrong = await pull({ SREGISTRY_NVIDIA_TOKEN: WRONG_KEY });
    assert.notEqual(wrong.code, 0);
    assert.match(
      errorLines(wrong.stderr)[0] ?? "",
      /credentials from SREGISTRY_NVIDIA_TOKEN \(environment\)/,
    );
    assert.equal(existsSync(secretsPath), false, "the wrong key was saved");

    // The right key authenticates (the manifest itself is unknown): now it is saved.
    const right = await pull({ SREGISTRY_NVIDIA_TOKEN: GOOD_KEY });
    assert.match(right.stderr, /manifest unknown/);
    assert.equal(JSON.parse(readFileSync(secretsPath, "utf8")).nvidia.SREGISTRY_NVIDIA_TOKEN, GOOD_KEY);

    // A stale key in the secrets file, none in the environment: the error names the file.
    writeFileSync(secretsPath, JSON.stringify({ nvidia: { SREGISTRY_NVIDIA_TOKEN: WRONG_KEY } }), {
      mode: 0o600,
    });
    const stale = await pull({});
    const line = errorLines(stale.stderr)[0] ?? "";
    assert.ok(line.includes(`the secrets file ${secretsPath}`), line);
    assert.ok(!line.includes("SREGISTRY_NVIDIA_TOKEN (environment)"), line);
    assert.ok(!(stale.stdout + stale.stderr).includes(WRONG_KEY));
  } finally {
    await registry.close();
  }
});

test("a plain-http registry without the insecure setting: one line with the fix; --insecure works", async () => {
  const registry = await startRegistry((self) => `${self.url}/token`);
  const { env } = freshHome();
  const plain = { ...nvidiaEnv(env, registry, false), SREGISTRY_NVIDIA_TOKEN: GOOD_KEY };
  try {
    const refused = await runCliInProcess(["pull", "nvidia://nvidia/app:1"], plain);
    assert.notEqual(refused.code, 0);
    const errors = errorLines(refused.stderr);
    assert.equal(errors.length, 1, refused.stderr);
    assert.match(
      errors[0]!,
      new RegExp(
        `the registry ${registry.host.replace(/\./g, "\\.")} answered plain HTTP to an https request; ` +
          "set SREGISTRY_NVIDIA_NOHTTPS=yes or use --insecure",
      ),
    );
    assert.doesNotMatch(refused.stderr, /EPROTO|wrong version number/);
    assert.equal(registry.requests.length, 0);

    const pulled = await runCliInProcess(["pull", "--insecure", "nvidia://nvidia/app:1"], plain);
    assert.match(pulled.stderr, /manifest unknown/, "reached the registry over http");
    const recorded = await runCliInProcess(["record", "--insecure", "nvidia://nvidia/app:1"], plain);
    assert.match(recorded.stderr, /manifest unknown/);
    const searched = await runCliInProcess(["--quiet", "search", "--insecure", "nvidia://nvidia/app"], plain);
    assert.equal(searched.code, 0, searched.stderr);
    assert.match(searched.stdout, /nvidia:\/\/nvidia\/app:1\n.*nvidia:\/\/nvidia\/app:2/);
  } finally {
    await registry.close();
  }
});
