import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { flattenLayers } from "../flatten/flatten.js";
import { memoryLayer, tarLayer } from "../flatten/flatten.testing.js";
import { writeTarStream } from "./from-tar.js";
import { openNativeSink } from "./native.js";
import { runTool } from "./writer.testing.js";
import { SquashfsWriter } from "./writer.js";

let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "squashfs-from-tar-"));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("layers → flattener → native writer", () => {
  it("gives the image tar2sqfs makes of the same flattened tar (whiteouts, hardlinks across layers)", async () => {
    const lower = await tarLayer([
      { name: "etc/", type: "directory" },
      { name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n" },
      { name: "etc/gone", body: "deleted above" },
      { name: "usr/bin/", type: "directory", mode: 0o755 },
      { name: "usr/bin/tool", body: "#!/bin/sh\necho tool\n", mode: 0o755, uid: 1000, gid: 1000 },
      { name: "dev/", type: "directory" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    ]);
    const upper = await tarLayer([
      { name: "etc/.wh.gone", body: "" },
      { name: "usr/bin/tool-link", type: "link", linkname: "usr/bin/tool" },
      { name: "usr/bin/sh", type: "symlink", linkname: "/bin/busybox" },
      { name: "opt/data", body: "x".repeat(300_000) },
    ]);
    const layers = [memoryLayer(lower), memoryLayer(upper)];
    const root = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

    const ours = join(work, "native.sqfs");
    const fd = openSync(ours, "w+");
    try {
      const writer = new SquashfsWriter({ fd, root });
      const tar = new PassThrough();
      const flattening = flattenLayers(layers, [], tar);
      await writeTarStream(tar, writer);
      await flattening;
      await writer.finish();
    } finally {
      closeSync(fd);
    }

    const tarPath = join(work, "flat.tar");
    const reference = join(work, "tar2sqfs.sqfs");
    const tar = new PassThrough();
    const collected: Buffer[] = [];
    tar.on("data", (chunk: Buffer) => collected.push(chunk));
    await flattenLayers(layers, [], tar);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(tarPath, Buffer.concat(collected));
    runTool("sh", ["-c", `tar2sqfs --quiet --force --no-skip --defaults mtime=0 ${reference} < ${tarPath}`]);
    runTool("sqfsdiff", ["--timestamps", "--old", reference, "--new", ours]);
    const listing = runTool("unsquashfs", ["-lln", ours]);
    assert.doesNotMatch(listing, /etc\/gone/);
    assert.match(listing, /-rwxr-xr-x 1000\/1000 +20 .* squashfs-root\/usr\/bin\/tool-link/);
    const links = runTool("sh", ["-c", `sqfs2tar ${ours} | tar tvf -`]);
    assert.match(links, /usr\/bin\/tool(-link)? link to usr\/bin\/tool(-link)?/);
  });

  it("reads each layer once when fed directly, storing content later layers delete, and gives tar2sqfs's image", async () => {
    const lower = await tarLayer([
      { name: "etc/", type: "directory" },
      { name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n" },
      { name: "etc/gone", body: "g".repeat(200_000) },
      { name: "etc/replaced", body: "old" },
      { name: "bin/", type: "directory" },
      { name: "bin/tool", body: "#!/bin/sh\necho tool\n", mode: 0o755, uid: 1000, gid: 1000 },
    ]);
    const upper = await tarLayer([
      { name: "etc/.wh.gone", body: "" },
      { name: "etc/replaced", body: "new content" },
      { name: "bin/tool-link", type: "link", linkname: "bin/tool" },
      { name: "opt/data", body: "x".repeat(300_000) },
    ]);
    let opens = 0;
    const counted = (data: Buffer) => {
      const layer = memoryLayer(data);
      const open = layer.open.bind(layer);
      return { ...layer, open: () => (opens++, open()) };
    };
    const overlay = [
      { path: "etc/hostname", type: "file" as const, mode: 0o644, content: Buffer.from("box\n") },
    ].map((o) => ({ ...o, mtime: new Date(0), uid: 0, gid: 0, policy: "replace" as const }));
    const ours = join(work, "one-pass.sqfs");
    const sink = await openNativeSink({ path: ours }, { compression: { algorithm: "gzip" } });
    const stats = await flattenLayers([counted(lower), counted(upper)], overlay, sink);
    await sink.close();
    assert.equal(opens, 2, "each layer is read once");
    assert.equal(stats.storedUnusedBytes, 200_000 + 3);

    const tarPath = join(work, "one-pass.tar");
    const reference = join(work, "one-pass-tar2sqfs.sqfs");
    const tar = new PassThrough();
    const collected: Buffer[] = [];
    tar.on("data", (chunk: Buffer) => collected.push(chunk));
    await flattenLayers([memoryLayer(lower), memoryLayer(upper)], overlay, tar);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(tarPath, Buffer.concat(collected));
    runTool("sh", ["-c", `tar2sqfs --quiet --force --no-skip --defaults mtime=0 ${reference} < ${tarPath}`]);
    runTool("sqfsdiff", ["--timestamps", "--old", reference, "--new", ours]);

    // Same input, same image.
    const again = join(work, "one-pass-again.sqfs");
    const second = await openNativeSink({ path: again }, { compression: { algorithm: "gzip" } });
    await flattenLayers([memoryLayer(lower), memoryLayer(upper)], overlay, second);
    await second.close();
    const { readFile } = await import("node:fs/promises");
    assert.deepEqual(await readFile(again), await readFile(ours));
  });
});
