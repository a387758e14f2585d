import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { SregistryError } from "../../util/errors.js";
import { tarLayer } from "../flatten/flatten.testing.js";
import { sqfstarArgs, tar2sqfsArgs, DEFAULT_ROOT } from "./args.js";
import { buildSquashfs } from "./builder.js";
import { detectSquashfsTools } from "./tools.js";

const settings = {
  compression: "gzip" as const,
  level: 6,
  processors: 2,
  blockSize: 131072,
  mkfsTime: 0,
  root: DEFAULT_ROOT,
  offset: 0,
};

describe("squashfs tool arguments", () => {
  it("puts every sqfstar option before the output (later ones would be exclude patterns)", () => {
    const args = sqfstarArgs("/out.sqfs", { ...settings, offset: 4096 });
    assert.equal(args[args.length - 1], "/out.sqfs");
    assert.ok(!args.includes("-Xcompression-level"), "sqfstar 4.5.x rejects compressor options");
    assert.ok(!args.includes("-all-root") && !args.includes("-all-time"));
    assert.deepEqual(args.slice(args.indexOf("-offset"), args.indexOf("-offset") + 2), ["-offset", "4096"]);
    assert.ok(sqfstarArgs("/o", settings, false, true).includes("-Xcompression-level"));
  });

  it("passes the root attributes and level to tar2sqfs", () => {
    const args = tar2sqfsArgs("/o", { ...settings, root: { mode: 0o700, uid: 5, gid: 6, mtime: 7 } });
    assert.ok(args.includes("uid=5,gid=6,mode=0700,mtime=7"));
    assert.ok(args.includes("level=6"));
  });
});

describe("buildSquashfs", () => {
  let dir: string;
  let tar: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "squashfs-builder-"));
    tar = await tarLayer([
      { name: "etc/", type: "directory" },
      { name: "etc/hostname", body: "box\n", uid: 12, gid: 34 },
    ]);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const tool of ["sqfstar", "tar2sqfs"] as const) {
    it(`writes at an offset and keeps the bytes before it (${tool})`, async () => {
      const path = join(dir, `${tool}-offset.img`);
      const prefix = Buffer.alloc(8192, 0xab);
      await writeFile(path, Buffer.concat([prefix, Buffer.alloc(100, 1)]));
      const result = await buildSquashfs(
        Readable.from([tar]),
        { path, offset: 8192 },
        { tool, root: { ...DEFAULT_ROOT, mode: 0o711 } },
      );
      assert.equal(result.tool, tool);
      const written = await readFile(path);
      assert.deepEqual(written.subarray(0, 8192), prefix);
      assert.equal(written.subarray(8192, 8196).toString("latin1"), "hsqs");
      assert.equal(result.size, written.length - 8192);
      const listing = execFileSync("unsquashfs", ["-o", "8192", "-lln", path]).toString();
      assert.match(listing, /drwx--x--x 0\/0 .* squashfs-root\n/);
      assert.match(listing, /-rw-r--r-- 12\/34 .* squashfs-root\/etc\/hostname/);
    });
  }

  it("reports the tool's last error line", async () => {
    const promise = buildSquashfs(
      Readable.from([tar]),
      { path: join(dir, "bad.img") },
      { tool: "tar2sqfs", blockSize: 1000 },
    );
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof SregistryError);
      assert.equal(err.code, "SQUASHFS_FAILED");
      assert.match(err.message, /^tar2sqfs failed: .+/);
      return true;
    });
  });

  it("says what to install when no tool is found", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      detectSquashfsTools(true);
      await assert.rejects(buildSquashfs(Readable.from([tar]), { path: join(dir, "none.img") }), {
        code: "TOOL_MISSING",
        message: "sqfstar or tar2sqfs not found: install squashfs-tools (>= 4.5) or squashfs-tools-ng",
      });
    } finally {
      process.env.PATH = path;
      detectSquashfsTools(true);
    }
  });
});
