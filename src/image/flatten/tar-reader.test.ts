import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { TarEntry } from "./tar-header.js";
import { TarFormatError, TarReader } from "./tar-reader.js";
import { END_OF_ARCHIVE, encodeHeader, padding } from "./tar-writer.js";
import { tarLayer } from "./flatten.testing.js";

function readAll(data: Buffer, step = data.length): { entries: TarEntry[]; bodies: Map<string, string> } {
  const entries: TarEntry[] = [];
  const bodies = new Map<string, string>();
  let current = "";
  const reader = new TarReader({
    onEntry(entry) {
      entries.push(entry);
      current = entry.name;
      bodies.set(current, "");
      return true;
    },
    onData: (chunk) => bodies.set(current, bodies.get(current)! + chunk.toString("latin1")),
  });
  for (let i = 0; i < data.length; i += step) reader.push(data.subarray(i, i + step));
  reader.end();
  return { entries, bodies };
}

const base: TarEntry = {
  name: "",
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 1_700_000_000,
  linkname: "",
  uname: "",
  gname: "",
  devmajor: 0,
  devminor: 0,
  xattrs: null,
};

describe("TarReader", () => {
  it("reads tar-stream output fed one byte at a time", async () => {
    const long = "d/" + "n".repeat(150) + "/" + "m".repeat(120);
    const data = await tarLayer([
      { name: "a", body: "hello", mode: 0o4755, uid: 1000, gid: 100 },
      { name: long, body: "long" },
      { name: "s", type: "symlink", linkname: "t".repeat(130) },
    ]);
    const { entries, bodies } = readAll(data, 1);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode, e.uid]),
      [
        ["a", "file", 0o4755, 1000],
        [long, "file", 0o644, 0],
        ["s", "symlink", 0o644, 0],
      ],
    );
    assert.equal(bodies.get("a"), "hello");
    assert.equal(bodies.get(long), "long");
    assert.equal(entries[2]!.linkname, "t".repeat(130));
  });

  it("reads GNU tar's long names, long links and non-UTF-8 names byte for byte", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tar-reader-"));
    try {
      const deep = join(dir, "g".repeat(150));
      await mkdir(deep);
      await writeFile(join(deep, "f"), "gnu");
      await symlink("l".repeat(160), join(dir, "link"));
      await writeFile(Buffer.concat([Buffer.from(dir + "/"), Buffer.from([0x66, 0xff, 0x66])]), "bin");
      const data = execFileSync("tar", ["--format=gnu", "-C", dir, "-cf", "-", "."]);
      const { entries, bodies } = readAll(data, 1000);
      const names = entries.map((e) => e.name);
      assert.ok(names.includes(`./${"g".repeat(150)}/f`));
      assert.equal(bodies.get(`./${"g".repeat(150)}/f`), "gnu");
      assert.equal(entries.find((e) => e.name === "./link")?.linkname, "l".repeat(160));
      assert.ok(names.some((n) => Buffer.from(n, "latin1").equals(Buffer.from("./f\xfff", "latin1"))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("round-trips binary xattrs, big ids and long names through the writer", () => {
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x00, 0x80]);
    const entry: TarEntry = {
      ...base,
      name: "x/" + "y".repeat(300),
      uid: 100_000_000,
      gid: 5,
      size: 3,
      xattrs: new Map([
        ["security.capability", capability],
        ["user.note", Buffer.from("ünï")],
      ]),
    };
    const data = Buffer.concat([encodeHeader(entry), Buffer.from("abc"), padding(3), END_OF_ARCHIVE]);
    const { entries, bodies } = readAll(data, 7);
    assert.equal(entries.length, 1);
    const read = entries[0]!;
    assert.equal(read.name, entry.name);
    assert.equal(read.uid, 100_000_000);
    assert.deepEqual(read.xattrs?.get("security.capability"), capability);
    assert.equal(read.xattrs?.get("user.note")?.toString(), "ünï");
    assert.equal(bodies.get(entry.name), "abc");
    // GNU tar agrees with the writer.
    const listing = execFileSync("tar", ["--numeric-owner", "-tvf", "-"], { input: data }).toString();
    assert.match(listing, new RegExp(`100000000/5 +3 .* x/y{300}`));
  });

  it("rejects corrupt headers, truncated archives and oversized PAX records", async () => {
    const data = await tarLayer([{ name: "a", body: "x".repeat(1000) }]);
    const corrupt = Buffer.from(data);
    corrupt[0] = 0x7a;
    assert.throws(() => readAll(corrupt), TarFormatError);
    assert.throws(() => readAll(data.subarray(0, 900)), /unexpected end/);
    const pax = await tarLayer([{ name: "p", body: "", pax: { comment: "c".repeat(4000) } } as never]);
    const reader = new TarReader({ onEntry: () => false }, { maxPaxHeaderBytes: 1000 });
    assert.throws(
      () => reader.push(pax),
      (err: unknown) => err instanceof TarFormatError && err.kind === "limit",
    );
  });
});
