/**
 * The whole flatten → sqfstar → unsquashfs path as the unprivileged user `nobody`: no rootfs is
 * extracted, so 0000/0500 directories, foreign owners and device nodes need no privilege, and the
 * squashfs must still carry the tar's uid/gid and modes.
 */
import assert from "node:assert/strict";
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { tarLayer } from "../../src/image/flatten/flatten.testing.js";
import { runAsNobody, tmpDir, type TmpDir } from "../harness/tools.js";

const isRoot = process.getuid?.() === 0;
const SRC = join(import.meta.dirname, "..", "..", "src");

const SCRIPT = `
import { flattenInto } from ${JSON.stringify(join(SRC, "image/flatten-stream.ts"))};
import { buildSquashfs } from ${JSON.stringify(join(SRC, "image/squashfs/builder.ts"))};
import { silentLogger } from ${JSON.stringify(join(SRC, "util/log.ts"))};
const [path, out, tool] = process.argv.slice(2);
const layer = { digest: "sha256:" + "0".repeat(64), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", path };
const result = await flattenInto(
  { layers: [layer], overlay: [], diffIds: undefined, allowForeign: false, logger: silentLogger },
  (tar, root, stop) => buildSquashfs(tar, { path: out }, { tool, root, signal: stop }),
);
console.log(JSON.stringify(result));
`;

describe("flatten and squash as nobody", { skip: !isRoot && "needs root to switch to nobody" }, () => {
  let tmp: TmpDir;
  let work: string;

  before(async () => {
    tmp = await tmpDir("flatten-rootless-");
    await chmod(tmp.path, 0o755);
    work = join(tmp.path, "work");
    await mkdir(work);
    await chown(work, 65534, 65534);
    const layer = await tarLayer([
      { name: "d0500/", type: "directory", mode: 0o500, uid: 1000, gid: 1000 },
      { name: "d0500/f", body: "readable", mode: 0o444, uid: 1000, gid: 1000 },
      { name: "d0000/", type: "directory", mode: 0o000, uid: 0, gid: 0 },
      { name: "d0000/secret", body: "s", mode: 0o000, uid: 0, gid: 0 },
      { name: "dev/", type: "directory" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "bin/", type: "directory" },
      { name: "bin/su", body: "su", mode: 0o4755, uid: 0, gid: 0 },
      { name: "srv/", type: "directory", uid: 33, gid: 33, mode: 0o750 },
    ]);
    await writeFile(join(tmp.path, "layer.tar.gz"), gzipSync(layer), { mode: 0o644 });
    await writeFile(join(tmp.path, "squash.mts"), SCRIPT, { mode: 0o644 });
  });

  after(async () => {
    await tmp?.cleanup();
  });

  for (const tool of ["sqfstar", "tar2sqfs"]) {
    it(`builds the squashfs with the tar's owners and modes (${tool})`, async () => {
      const image = join(work, `${tool}.sqfs`);
      const cwd = join(SRC, "..");
      const script = join(tmp.path, "squash.mts");
      const built = await runAsNobody(
        "node",
        ["--import", "tsx", script, join(tmp.path, "layer.tar.gz"), image, tool],
        { cwd },
      );
      assert.equal(JSON.parse(built.stdout).tool, tool);
      const listing = (await runAsNobody("unsquashfs", ["-lln", image])).stdout;
      const line = (path: string): string =>
        listing.split("\n").find((l) => l.endsWith(`squashfs-root/${path}`)) ?? "";
      assert.match(line("d0500"), /^dr-x------ 1000\/1000 /);
      assert.match(line("d0500/f"), /^-r--r--r-- 1000\/1000 /);
      assert.match(line("d0000"), /^d--------- 0\/0 /);
      assert.match(line("dev/null"), /^crw-rw-rw- 0\/0 +1, +3 /);
      assert.match(line("bin/su"), /^-rwsr-xr-x 0\/0 /);
      assert.match(line("srv"), /^drwxr-x--- 33\/33 /);
      // Extracting as nobody works for what nobody may read (the 0500 directory).
      const out = join(work, `${tool}-out`);
      await runAsNobody("unsquashfs", ["-no-progress", "-d", out, image, "d0500"]);
      const cat = await runAsNobody("cat", [join(out, "d0500", "f")]);
      assert.equal(cat.stdout, "readable");
    });
  }
});
