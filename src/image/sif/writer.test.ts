import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSif, readSifObject } from "./reader.js";
import { createSif, sifPartitionOffset } from "./writer.js";

let dir = "";
let rootfs = "";
let squashfs = "";

const meta = {
  definition: "bootstrap: docker\nfrom: docker.io/library/alpine:3.20\n\n",
  inspectMetadata: '{"data":{"attributes":{"labels":{"a":"b"}}},"type":"container"}',
  ociConfig: '{"Env":["PATH=/usr/bin:/bin"],"Cmd":["/bin/sh"]}',
};
const FIXED_TIME = ["-mkfs-time", "1700000000", "-all-time", "1700000000"];

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sif-writer-"));
  rootfs = join(dir, "rootfs");
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  writeFileSync(join(rootfs, "bin", "hello"), "#!/bin/sh\necho hello\n");
  writeFileSync(join(rootfs, "big"), Buffer.alloc(200_000, 7));
  symlinkSync("bin/hello", join(rootfs, "link"));
  squashfs = join(dir, "rootfs.sqfs");
  tool("mksquashfs", [rootfs, squashfs, "-noappend", "-comp", "gzip", "-quiet", ...FIXED_TIME]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("copy mode: siftool sees Def.FILE, two JSON.Generic and a Squashfs PrimSys amd64 partition", async () => {
  const sif = join(dir, "copy.sif");
  const plan = await createSif(sif, { ...meta, partition: { path: squashfs, arch: "amd64" } });

  const header = tool("siftool", ["header", sif]);
  assert.match(header, /Primary Architecture:\s+amd64/);
  assert.match(header, /Descriptors Free:\s+44/);
  assert.match(header, /Descriptors Offset:\s+4096/);
  assert.match(header, /Data Offset:\s+32176/);

  const list = tool("siftool", ["list", sif]);
  const rows = list.split("\n").filter((l) => /^\d+\s+\|/.test(l));
  assert.equal(rows.length, 4, list);
  assert.match(rows[0] ?? "", /^1\s+\|1\s+\|NONE\s+\|32176-\d+\s+\|Def\.FILE/);
  assert.match(rows[1] ?? "", /^2\s+\|1\s+\|NONE\s+\|\d+-\d+\s+\|JSON\.Generic/);
  assert.match(rows[2] ?? "", /^3\s+\|1\s+\|NONE\s+\|\d+-\d+\s+\|JSON\.Generic/);
  assert.match(
    rows[3] ?? "",
    new RegExp(
      `^4\\s+\\|1\\s+\\|NONE\\s+\\|${plan.partitionOffset}-\\d+\\s+\\|FS \\(Squashfs/\\*System/amd64\\)`,
    ),
  );
  assert.match(tool("siftool", ["info", "2", sif]), /inspect-metadata\.json/);

  // Every object dumps back byte-identical.
  const dump = (id: number) => execFileSync("siftool", ["dump", String(id), sif]);
  assert.equal(dump(1).toString(), meta.definition);
  assert.equal(dump(2).toString(), meta.inspectMetadata);
  assert.equal(dump(3).toString(), meta.ociConfig);
  assert.ok(dump(4).equals(readFileSync(squashfs)), "partition dump equals the squashfs");

  const listing = tool("unsquashfs", ["-o", String(plan.partitionOffset), "-ls", sif]);
  assert.match(listing, /squashfs-root\/bin\/hello/);
  assert.match(listing, /squashfs-root\/link/);
});

test("in-place mode: mksquashfs -o writes into the SIF file, then the head is added", async () => {
  const offset = sifPartitionOffset(meta);
  assert.equal(offset, 32768);
  const sif = join(dir, "inplace.sif");
  writeFileSync(sif, "stale content that must disappear");
  tool("mksquashfs", [
    rootfs,
    sif,
    "-noappend",
    "-comp",
    "gzip",
    "-quiet",
    "-o",
    String(offset),
    ...FIXED_TIME,
  ]);
  await createSif(sif, { ...meta, partition: { arch: "amd64" }, deterministicId: "sha256:1234|linux/amd64" });

  const info = await readSif(sif);
  const partition = info.descriptors[3];
  assert.ok(partition);
  assert.equal(partition.offset, offset);
  const dumped = join(dir, "dumped.sqfs");
  writeFileSync(dumped, execFileSync("siftool", ["dump", "4", sif]));
  assert.ok(readFileSync(dumped).equals(readFileSync(squashfs)), "same squashfs bytes as a standalone build");
  assert.match(tool("unsquashfs", ["-s", dumped]), /Filesystem size .*Kbytes/);
  assert.equal((await readSifObject(sif, info.descriptors[0]!)).toString(), meta.definition);
});

test("sqfstar -force -o into the file works the same way", async () => {
  const sif = join(dir, "sqfstar.sif");
  const tar = spawnSync("tar", ["-C", rootfs, "-cf", "-", "."], { maxBuffer: 1 << 26 });
  const offset = sifPartitionOffset(meta);
  const result = spawnSync("sqfstar", ["-comp", "gzip", "-quiet", "-force", "-o", String(offset), sif], {
    input: tar.stdout,
  });
  assert.equal(result.status, 0, result.stderr?.toString());
  await createSif(sif, { ...meta, partition: { arch: "arm64" } });
  assert.match(tool("siftool", ["list", sif]), /FS \(Squashfs\/\*System\/arm64\)/);
  assert.match(tool("unsquashfs", ["-o", String(offset), "-ls", sif]), /squashfs-root\/big/);
});

test("deterministic: same inputs give byte-identical files, copy and in-place alike", async () => {
  const options = {
    ...meta,
    deterministicId: "sha256:abcd|linux/amd64|",
    created: new Date("2024-05-01T00:00:00Z"),
  };
  const a = join(dir, "det-a.sif");
  const b = join(dir, "det-b.sif");
  await createSif(a, { ...options, partition: { path: squashfs, arch: "amd64" } });
  tool("mksquashfs", [
    rootfs,
    b,
    "-noappend",
    "-comp",
    "gzip",
    "-quiet",
    "-o",
    String(sifPartitionOffset(meta)),
    ...FIXED_TIME,
  ]);
  await createSif(b, { ...options, partition: { arch: "amd64" } });
  assert.ok(readFileSync(a).equals(readFileSync(b)));

  const header = (await readSif(a)).header;
  assert.equal(header.created, 1714521600);
  assert.match(header.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5/);

  const zero = join(dir, "zero.sif");
  await createSif(zero, { ...meta, deterministicId: "x", partition: { path: squashfs, arch: "amd64" } });
  const zeroInfo = await readSif(zero);
  assert.equal(zeroInfo.header.created, -62135596800);
  assert.ok(zeroInfo.descriptors.every((d) => d.created === -62135596800 && d.modified === -62135596800));
});

test("identical to siftool's own layout except ID, times and launch script", async () => {
  const ref = join(dir, "siftool.sif");
  writeFileSync(join(dir, "def"), meta.definition);
  writeFileSync(join(dir, "inspect-metadata.json"), meta.inspectMetadata);
  writeFileSync(join(dir, "oci-config.json"), meta.ociConfig);
  tool("siftool", ["new", ref]);
  tool("siftool", ["add", ref, join(dir, "def"), "--datatype", "1", "--groupid", "1", "--filename", ""]);
  tool("siftool", [
    "add",
    ref,
    join(dir, "inspect-metadata.json"),
    "--datatype",
    "6",
    "--groupid",
    "1",
    "--filename",
    "inspect-metadata.json",
  ]);
  tool("siftool", [
    "add",
    ref,
    join(dir, "oci-config.json"),
    "--datatype",
    "6",
    "--groupid",
    "1",
    "--filename",
    "oci-config.json",
  ]);
  tool("siftool", [
    "add",
    ref,
    squashfs,
    "--datatype",
    "4",
    "--parttype",
    "2",
    "--partfs",
    "1",
    "--partarch",
    "2",
    "--groupid",
    "1",
    "--filename",
    "",
  ]);

  const ours = join(dir, "ours.sif");
  await createSif(ours, { ...meta, partition: { path: squashfs, arch: "amd64" } });
  const expected = readFileSync(ref);
  const actual = readFileSync(ours);
  assert.equal(actual.length, expected.length);
  // Take over the fields that legitimately differ, then compare every byte.
  expected.copy(actual, 0, 0, 32); // siftool new writes no launch script
  expected.copy(actual, 48, 48, 80); // ID, created, modified
  for (let slot = 0; slot < 4; slot++) {
    const base = 4096 + slot * 585;
    expected.copy(actual, base + 41, base + 41, base + 57);
  }
  assert.ok(actual.equals(expected), "byte layout matches siftool");
});

test("errors: no squashfs at the offset, wrong partition size, reading a non-SIF", async () => {
  const empty = join(dir, "empty.sif");
  writeFileSync(empty, Buffer.alloc(40000));
  await assert.rejects(createSif(empty, { ...meta, partition: { arch: "amd64" } }), /no squashfs superblock/);
  await assert.rejects(
    createSif(join(dir, "bad-size.sif"), { ...meta, partition: { path: squashfs, size: 10, arch: "amd64" } }),
    /expected 10/,
  );
  await assert.rejects(readSif(squashfs), /not a SIF image/);
});
