import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { encodeHeader, END_OF_ARCHIVE, padding } from "../flatten/tar-writer.js";
import type { TarEntry } from "../flatten/tar-header.js";
import { allRootTar } from "./all-root.js";
import { spawnSync } from "node:child_process";

function entry(over: Partial<TarEntry>): TarEntry {
  return {
    name: "f",
    type: "file",
    mode: 0o4755,
    uid: 1000,
    gid: 1000,
    size: 0,
    mtime: 1_700_000_000,
    linkname: "",
    uname: "user",
    gname: "users",
    devmajor: 0,
    devminor: 0,
    xattrs: null,
    ...over,
  } as TarEntry;
}

function archive(): Buffer {
  const body = Buffer.from("x".repeat(700));
  const parts: Buffer[] = [
    encodeHeader(entry({ name: "dir", type: "dir", mode: 0o755, uid: 33 })),
    encodeHeader(entry({ name: "dir/file", size: body.length })),
    body,
    padding(body.length),
    // A PAX header for a long name and an id too big for ustar.
    encodeHeader(entry({ name: "d/" + "n".repeat(300), uid: 5_000_000, gid: 7 })),
    encodeHeader(entry({ name: "link", type: "symlink", linkname: "dir/file", uid: 9 })),
    END_OF_ARCHIVE,
  ];
  return Buffer.concat(parts);
}

async function mapped(input: Buffer, chunk: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const b of Readable.from(pieces).pipe(allRootTar())) out.push(b as Buffer);
  return Buffer.concat(out);
}

test("every entry becomes 0/0 root/root; modes, sizes, bodies and names kept, whatever the chunking", async () => {
  const input = archive();
  for (const chunk of [1, 7, 512, 100_000]) {
    const out = await mapped(input, chunk);
    assert.equal(out.length, input.length);
    const listing = spawnSync("tar", ["-tv", "--numeric-owner"], { input: out, encoding: "utf8" });
    assert.equal(listing.status, 0, listing.stderr);
    const lines = listing.stdout.trim().split("\n");
    assert.equal(lines.length, 4);
    for (const line of lines) assert.match(line, /^\S+ 0\/0 /, line);
    assert.match(lines[1]!, /^-rwsr-xr-x 0\/0 +700 /);
    assert.ok(lines[2]!.includes("n".repeat(300)));
    const content = spawnSync("tar", ["-xO", "dir/file"], { input: out, encoding: "utf8" });
    assert.equal(content.stdout, "x".repeat(700));
  }
});
