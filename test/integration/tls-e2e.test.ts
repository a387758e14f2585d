/**
 * TLS end to end through the real CLI and registry client: the real distribution registry behind an
 * https front (node:https, 127.0.0.1) whose certificate is signed by a private CA that the test makes
 * with `openssl` (server certificate with subjectAltName IP:127.0.0.1 and DNS:localhost).
 *
 * - Verification is on by default: the untrusted certificate fails the pull with one clear line, a
 *   non-zero exit, no SIF and no catalog row (the registry behind the front saw no request at all).
 * - `SREGISTRY_HTTPS_NOVERIFY=1` (README, settings table) turns verification off and the pull succeeds.
 * - The private CA given to Node through `NODE_EXTRA_CA_CERTS` makes the pull succeed with verification
 *   on. sregistry has no setting of its own for a CA bundle; Node's variable is the documented way.
 * - The same front as a mirror of the plain-http registry: skipped like any failing mirror, the pull
 *   succeeds from the registry, and `--debug` names the certificate problem in one line.
 * - A foreign layer URL on the front (production transport, DNS injected): one FOREIGN_URL line
 *   naming the host and the certificate problem, not Node's bare error.
 *
 * @example
 * ```sh
 * node scripts/run-tests.mjs integration/tls-e2e
 * ```
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isolatedEnv, runCli } from "../harness/cli.js";
import { pushImage, randomBytes } from "../harness/fixtures.js";
import { successPath } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { run, tmpDir, type TmpDir } from "../harness/tools.js";
import { openForeignBlob } from "../../src/pull/foreign-urls.js";

const IMAGE = "library/tls-app:1";

interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** A private CA and a server certificate for 127.0.0.1 / localhost signed by it (EC P-256, 2 days). */
async function makePki(dir: string): Promise<Pki> {
  const p = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2",
    "-subj", "/CN=sregistry test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]); // prettier-ignore
  await run("openssl", [
    "req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1",
  ]); // prettier-ignore
  await writeFile(
    p("server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
  );
  await run("openssl", [
    "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
    "-CAcreateserial", "-out", p("server.crt"), "-days", "2", "-extfile", p("server.ext"),
  ]); // prettier-ignore
  return { caCert: p("ca.crt"), serverCert: p("server.crt"), serverKey: p("server.key") };
}

/** An https listener on 127.0.0.1 that forwards every request to the registry's plain-http front. */
async function startHttpsFront(
  pki: Pki,
  backend: RegistryServer,
  address = "127.0.0.1",
): Promise<{ server: Server; host: string }> {
  const [key, cert] = await Promise.all([readFile(pki.serverKey), readFile(pki.serverCert)]);
  const backendUrl = new URL(backend.url);
  const server = createHttpsServer({ key, cert }, (req, res) => {
    const upstream = httpRequest(
      {
        host: backendUrl.hostname,
        port: backendUrl.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: backendUrl.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, host: `${address}:${(server.address() as AddressInfo).port}` };
}

/** Every file under `dir` (relative paths), or none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
}

describe("TLS to the registry through the CLI", () => {
  let registry: RegistryServer;
  let tmp: TmpDir;
  let pki: Pki;
  let front: { server: Server; host: string };
  /** The same front on 127.0.0.2, a name the certificate does not list. */
  let otherName: { server: Server; host: string };

  before(async () => {
    tmp = await tmpDir("tls-e2e-");
    pki = await makePki(tmp.path);
    registry = await startRegistry({ auth: "anonymous" });
    await pushImage(registry, IMAGE, {
      layers: [{ entries: [{ path: "payload.bin", content: randomBytes(50_000, "tls") }] }],
      config: { Cmd: ["/bin/sh"] },
    });
    front = await startHttpsFront(pki, registry);
    otherName = await startHttpsFront(pki, registry, "127.0.0.2");
  });

  after(async () => {
    for (const listener of [front, otherName]) {
      await new Promise<void>((resolve) => {
        if (!listener) return resolve();
        listener.server.close(() => resolve());
        listener.server.closeAllConnections();
      });
    }
    await registry?.stop();
    await tmp?.cleanup();
  });

  /** A docker-client environment pointed at the https front (no NOHTTPS: https is the default). */
  async function pull(name: string, extra: Record<string, string>) {
    const baseDir = join(tmp.path, name);
    const env: Record<string, string> = {
      ...isolatedEnv(baseDir),
      SREGISTRY_CLIENT: "docker",
      SREGISTRY_DOCKERHUB_BASE: front.host,
      ...extra,
    };
    const result = await runCli(["pull", `docker://${IMAGE}`], { env, baseDir });
    return { result, env };
  }

  it("refuses an untrusted certificate by default with one clear line and writes nothing", async () => {
    const before = registry.requests.length;
    const { result, env } = await pull("untrusted", {});
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    assert.equal(
      result.stderr,
      `ERROR the TLS certificate of ${front.host} could not be verified (unable to verify the first certificate); ` +
        "trust its CA with NODE_EXTRA_CA_CERTS=<PEM file>, or set SREGISTRY_HTTPS_NOVERIFY=1 to skip verification\n",
    );
    assert.doesNotMatch(result.stdout, /Success!/);
    // The TLS handshake failed, so the registry behind the front saw nothing.
    assert.equal(registry.requests.length, before);
    assert.deepEqual(
      (await filesUnder(env.SREGISTRY_STORAGE!)).filter((f) => f.endsWith(".sif")),
      [],
      "no SIF written",
    );
    const images = await runCli(["images"], { env, baseDir: join(tmp.path, "untrusted") });
    assert.equal(images.code, 0, images.stderr);
    assert.doesNotMatch(images.stdout, /tls-app/, "no catalog row");
  });

  it("pulls with SREGISTRY_HTTPS_NOVERIFY=1 (verification off)", async () => {
    const { result } = await pull("noverify", { SREGISTRY_HTTPS_NOVERIFY: "1" });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(successPath(result.stdout)));
  });

  it("pulls with verification on when the private CA is trusted through NODE_EXTRA_CA_CERTS", async () => {
    const { result } = await pull("extra-ca", { NODE_EXTRA_CA_CERTS: pki.caCert });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(successPath(result.stdout)));
  });

  it("still refuses a certificate whose name does not match, even with the CA trusted", async () => {
    const { result } = await pull("wrong-name", {
      NODE_EXTRA_CA_CERTS: pki.caCert,
      SREGISTRY_DOCKERHUB_BASE: otherName.host,
    });
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    assert.equal(
      result.stderr,
      `ERROR the TLS certificate of ${otherName.host} could not be verified (it is not issued for 127.0.0.2); ` +
        "trust its CA with NODE_EXTRA_CA_CERTS=<PEM file>, or set SREGISTRY_HTTPS_NOVERIFY=1 to skip verification\n",
    );
    assert.doesNotMatch(result.stdout, /Success!/);
  });

  it("skips a mirror with an untrusted certificate like any failing mirror, naming the problem", async () => {
    // The plain-http registry is the origin; the https front (private CA, not trusted) is its mirror.
    const baseDir = join(tmp.path, "mirror-untrusted");
    const env: Record<string, string> = {
      ...isolatedEnv(baseDir),
      SREGISTRY_CLIENT: "docker",
      SREGISTRY_DOCKERHUB_BASE: registry.host,
      SREGISTRY_DOCKERHUB_NOHTTPS: "true",
      SREGISTRY_MIRRORS: `${registry.host}=${front.host}`,
    };
    const result = await runCli(["--debug", "pull", `docker://${IMAGE}`], { env, baseDir });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(successPath(result.stdout)));
    const skipped = result.stderr.split("\n").filter((line) => line.includes(`mirror ${front.host} failed`));
    assert.ok(skipped.length >= 1, result.stderr);
    assert.ok(
      skipped[0]!.includes(
        `(the TLS certificate of ${front.host} could not be verified (unable to verify the first certificate); trust its CA with NODE_EXTRA_CA_CERTS`,
      ),
      skipped[0],
    );
  });

  it("fails a foreign layer URL with an untrusted certificate in one line naming the host", async () => {
    // The production foreign-URL transport; only DNS is injected (cdn.test → the front on 127.0.0.1).
    const port = front.host.split(":")[1]!;
    const url = `https://cdn.test:${port}/v2/library/tls-app/blobs/sha256:${"0".repeat(64)}`;
    const err = await openForeignBlob([url], {
      offset: 0,
      insecure: false,
      resolve: async () => ["127.0.0.1"],
      allowLoopbackForTests: true,
    }).then(
      () => assert.fail("the untrusted certificate was accepted"),
      (e: Error & { code?: string }) => e,
    );
    assert.equal(err.code, "FOREIGN_URL");
    assert.ok(!err.message.includes("\n"), err.message);
    assert.ok(
      err.message.includes(
        `${url}: the TLS certificate of cdn.test:${port} could not be verified (unable to verify the first certificate); trust its CA`,
      ),
      err.message,
    );
  });
});
