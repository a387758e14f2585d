/**
 * Helpers for the pull integration tests (`test/integration/pull-*.test.ts`): CLI environments
 * for a test registry, a CLI child that can be signalled, SIF partition extraction with the real
 * tools, tree comparison against `umoci unpack`, request counting and slow-blob interceptors, and
 * the "rich" fixture image that exercises the OCI layer semantics.
 *
 * Test-only: nothing in the product imports this module.
 *
 * @example
 * ```ts
 * const env = dockerEnv(server);
 * const result = await runCli(["pull", "docker://library/rich:oci"], { env, baseDir });
 * const root = await extractSifPartition(successPath(result.stdout), join(tmp, "root"));
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { snapshotTree, ZERO_MODE, type SnapshotItem } from "../../src/image/flatten/flatten.testing.js";
import type { FixtureEntry, FixtureImage } from "./fixtures.js";
import { CLI_MAIN, isolatedEnv, type CliResult } from "./cli.js";
import type { RegistryServer } from "./registry-server.js";
import { run, skopeoCopyToOci, umociUnpack } from "./tools.js";

/** Environment for `pull docker://<repo>:<tag>` against a local anonymous or Basic registry. */
export function dockerEnv(server: RegistryServer): Record<string, string> {
  const env: Record<string, string> = {
    SREGISTRY_CLIENT: "docker",
    SREGISTRY_DOCKERHUB_BASE: server.host,
    SREGISTRY_DOCKERHUB_NOHTTPS: "true",
  };
  if (server.auth === "basic") {
    env.SREGISTRY_DOCKERHUB_USERNAME = server.username!;
    env.SREGISTRY_DOCKERHUB_PASSWORD = server.password!;
  }
  return env;
}

/** Environment for `pull nvidia://<repo>:<tag>` against the nvcr.io-like token registry. */
export function nvidiaEnv(server: RegistryServer): Record<string, string> {
  return {
    SREGISTRY_CLIENT: "nvidia",
    SREGISTRY_NVIDIA_BASE: server.host,
    SREGISTRY_NVIDIA_NOHTTPS: "true",
    SREGISTRY_NVIDIA_TOKEN: server.password!,
  };
}

/** The path of the `Success! <path>` line. */
export function successPath(stdout: string): string {
  const match = /^Success! (.+)$/m.exec(stdout);
  if (!match) throw new Error(`no "Success!" line in: ${stdout}`);
  return match[1]!.trim();
}

/** GET requests for blobs (layers and configs) the registry front saw. */
export function blobGets(server: RegistryServer, from = 0): string[] {
  return server.requests
    .slice(from)
    .filter((r) => r.method === "GET" && r.path.includes("/blobs/"))
    .map((r) => r.path);
}

/** Offset and size of the squashfs partition, read with `siftool list`. */
export async function sifPartition(sif: string): Promise<{ offset: number; size: number; list: string }> {
  const list = (await run("siftool", ["list", sif])).stdout;
  const line = list.split("\n").find((l) => /\|FS \(Squashfs/.test(l));
  const match = line && /\|(\d+)-(\d+)\s*\|/.exec(line);
  if (!match) throw new Error(`no squashfs partition in siftool list: ${list}`);
  const start = Number(match[1]);
  return { offset: start, size: Number(match[2]) - start, list };
}

/** Extracts the SIF's squashfs with `unsquashfs -o <offset> -d <dir>`; returns `dir`. */
export async function extractSifPartition(sif: string, dir: string): Promise<string> {
  const { offset } = await sifPartition(sif);
  await run("unsquashfs", ["-no-progress", "-o", String(offset), "-d", dir, sif]);
  return dir;
}

/** `skopeo copy` the image back into an OCI layout, `umoci unpack` it (as root) and snapshot the rootfs. */
export async function umociSnapshot(
  server: RegistryServer,
  repoTag: string,
  work: string,
): Promise<Map<string, SnapshotItem>> {
  const layout = join(work, "layout");
  await mkdir(work, { recursive: true });
  await skopeoCopyToOci(server, repoTag, layout);
  await umociUnpack(layout, "latest", join(work, "bundle"));
  return snapshotTree(join(work, "bundle", "rootfs"));
}

/** What a pull adds over the image: never compared with umoci. */
const OVERLAY_PATHS = [".singularity.d", "singularity", ".run", ".exec", ".test", ".shell", "environment"];
const EMPTIED = ["etc/hosts", "etc/resolv.conf"];
const OVERLAY_DIRS = ["dev", "proc", "root", "var", "var/tmp", "tmp", "etc", "sys", "home"];

/**
 * Differences between our extracted SIF tree and umoci's rootfs, as readable lines (empty when
 * equal): type, mode, owner, size, content hash, symlink target, device numbers, xattrs, mtime, and
 * hardlink groups. The root, `/.singularity.d`, the root symlinks, the emptied /etc/hosts and
 * /etc/resolv.conf, and the base directories the pull creates when the image lacks them are left out.
 */
export function treeDifferences(
  ours: Map<string, SnapshotItem>,
  theirs: Map<string, SnapshotItem>,
): string[] {
  const skip = (path: string, tree: Map<string, SnapshotItem>): boolean =>
    path === "." ||
    OVERLAY_PATHS.some((p) => path === p || path.startsWith(p + "/")) ||
    EMPTIED.includes(path) ||
    (OVERLAY_DIRS.includes(path) && tree === ours && !theirs.has(path));
  const a = new Map([...ours].filter(([path]) => !skip(path, ours)));
  const b = new Map([...theirs].filter(([path]) => !skip(path, theirs)));
  const out: string[] = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(path);
    const y = b.get(path);
    if (!x) out.push(`missing in SIF: ${path}`);
    else if (!y) out.push(`extra in SIF: ${path}`);
    else {
      const { ino: _i, ...xs } = x;
      const { ino: _j, ...ys } = y;
      if (JSON.stringify(sorted(xs)) !== JSON.stringify(sorted(ys))) {
        out.push(`differs: ${path}: SIF ${JSON.stringify(sorted(xs))} umoci ${JSON.stringify(sorted(ys))}`);
      }
    }
  }
  const ga = hardlinkGroups(a);
  const gb = hardlinkGroups(b);
  for (const [path, group] of gb)
    if (ga.get(path) !== group) out.push(`hardlinks of ${path}: ${ga.get(path)} vs ${group}`);
  return out;
}

function sorted(value: object): object {
  return Object.fromEntries(Object.entries(value).sort(([k1], [k2]) => k1.localeCompare(k2)));
}

function hardlinkGroups(tree: Map<string, SnapshotItem>): Map<string, string> {
  const byInode = new Map<number, string[]>();
  for (const [path, item] of tree) {
    if (item.type === 0o040000) continue;
    byInode.set(item.ino, [...(byInode.get(item.ino) ?? []), path]);
  }
  const groups = new Map<string, string>();
  for (const paths of byInode.values()) {
    if (paths.length > 1) for (const p of paths) groups.set(p, paths.sort().join(" | "));
  }
  return groups;
}

export interface CliChild {
  child: ChildProcess;
  /** Resolves with the exit status (128 + n for a signal) and the output. */
  done: Promise<CliResult>;
  /** Resolves once stderr or stdout matched `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  output(): string;
}

/** Starts the CLI as a child that the test can signal (the harness's runCli waits for the end). */
export function startCli(args: string[], env: Record<string, string>, baseDir: string): CliChild {
  const fullEnv: Record<string, string> = { PATH: process.env.PATH ?? "", LANG: "C.UTF-8", NO_COLOR: "1" };
  Object.assign(fullEnv, isolatedEnv(baseDir), env);
  const tsx = import.meta.resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, CLI_MAIN, ...args], {
    cwd: baseDir,
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (t: string) => {
    stdout += t;
    listeners.forEach((l) => l());
  });
  child.stderr!.setEncoding("utf8").on("data", (t: string) => {
    stderr += t;
    listeners.forEach((l) => l());
  });
  const signals: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) =>
      resolve({ code: code ?? 128 + (signals[signal ?? ""] ?? 0), stdout, stderr }),
    );
  });
  const output = () => stdout + stderr;
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output())) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${pattern}; output: ${output()}`));
      }, timeoutMs);
      listeners.add(check);
      void done.then(() => {
        if (!pattern.test(output())) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`CLI ended before ${pattern}; output: ${output()}`));
        }
      });
      check();
    });
  return { child, done, waitFor, output };
}

/**
 * An interceptor that serves blob GETs itself (straight from the registry, full rights), slowly:
 * `chunk` bytes every `everyMs`. Other requests go through untouched. Use on anonymous registries.
 */
export function slowBlobs(
  server: RegistryServer,
  options: { chunk: number; everyMs: number; only?: (path: string) => boolean },
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = req.url ?? "";
    if (req.method !== "GET" || !path.includes("/blobs/") || (options.only && !options.only(path)))
      return false;
    const upstream = await server.adminFetch(path);
    const body = Buffer.from(await upstream.arrayBuffer());
    const range = /bytes=(\d+)-/.exec(String(req.headers.range ?? ""));
    const start = range ? Number(range[1]) : 0;
    const headers = {
      "content-type": "application/octet-stream",
      "content-length": String(body.length - start),
    };
    if (range)
      res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(upstream.status, headers);
    for (let at = start; at < body.length && !res.destroyed; at += options.chunk) {
      res.write(body.subarray(at, Math.min(body.length, at + options.chunk)));
      await sleep(options.everyMs);
    }
    res.end();
    return true;
  };
}

/**
 * A fixture covering the OCI layer semantics a pull must reproduce: whiteouts, an opaque
 * directory, hardlinks within and across layers, symlinks, file↔directory replacement, long
 * names, xattrs, setuid/setgid, 0000 and 0500 modes, device nodes and FIFOs, and an empty layer.
 */
export function richImage(overrides: Partial<FixtureImage> = {}): FixtureImage {
  const longDir = "long/" + "d".repeat(180);
  const layer1: FixtureEntry[] = [
    { path: "etc", type: "dir" },
    { path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
    { path: "etc/shadow", content: "secret", mode: ZERO_MODE },
    { path: "etc/passwd-link", type: "hardlink", linkname: "etc/passwd" },
    { path: "etc/hosts", content: "127.0.0.1 image-hosts\n" },
    { path: "bin", type: "dir" },
    { path: "bin/sh", content: "#!/bin/sh\necho rich\n".repeat(500), mode: 0o4755 },
    { path: "bin/sg", content: "sg", mode: 0o2755, gid: 42 },
    { path: "bin/ls", type: "symlink", linkname: "sh" },
    { path: "abs", type: "symlink", linkname: "/etc/passwd" },
    { path: "d0500", type: "dir", mode: 0o500 },
    { path: "d0500/f", content: "in 0500" },
    { path: "d0000", type: "dir", mode: ZERO_MODE },
    { path: "d0000/inner", content: "in 0000", mode: 0o500 },
    { path: "home", type: "dir" },
    { path: "home/user", type: "dir", uid: 1000, gid: 1000, mode: 0o700 },
    { path: "home/user/file", content: "mine", uid: 1000, gid: 100, mode: 0o600 },
    { path: "dev", type: "dir" },
    { path: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
    { path: "dev/loop0", type: "block", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    { path: "run", type: "dir" },
    { path: "run/fifo", type: "fifo", mode: 0o600 },
    { path: "long", type: "dir" },
    { path: "long/" + "a".repeat(120), content: "name of 125 bytes" },
    { path: longDir, type: "dir" },
    { path: longDir + "/" + "c".repeat(200), content: "a path of 391 bytes" },
    { path: "xattr", type: "dir" },
    { path: "xattr/file", content: "x", pax: { "SCHILY.xattr.user.test": "hello" } },
    { path: "rep", content: "file first" },
    { path: "dir2file", type: "dir" },
    { path: "dir2file/inner", content: "gone later" },
    { path: "wh", type: "dir" },
    { path: "wh/a", content: "a" },
    { path: "wh/b", type: "dir" },
    { path: "wh/b/c", content: "c" },
    { path: "wh/keep", content: "k" },
    { path: "opq", type: "dir" },
    { path: "opq/lower", content: "lower" },
    { path: "opq/sub", type: "dir" },
    { path: "opq/sub/x", content: "x" },
    { path: "hl", type: "dir" },
    { path: "hl/orig", content: "original body", mode: 0o640, uid: 7 },
  ];
  const layer2: FixtureEntry[] = [
    { path: "wh/.wh.a" },
    { path: "wh/.wh.b" },
    { path: "opq/.wh..wh..opq" },
    { path: "opq/new", content: "new" },
    { path: "rep", type: "dir" },
    { path: "rep/child", content: "file became a directory" },
    { path: "dir2file", content: "directory became a file" },
    { path: "hl/cross", type: "hardlink", linkname: "hl/orig" },
    { path: "etc/passwd", content: "replaced\n" },
  ];
  const layer3: FixtureEntry[] = [
    { path: "hl/.wh.orig" },
    { path: "bin/ls", type: "symlink", linkname: "/bin/sh" },
  ];
  return {
    layers: [{ entries: layer1 }, { entries: [] }, { entries: layer2 }, { entries: layer3 }],
    config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"], Labels: { fixture: "rich" } },
    ...overrides,
  };
}
