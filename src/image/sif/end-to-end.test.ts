// Overlay entries + metadata objects + mksquashfs + createSif, checked with unsquashfs and readSif.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { singularityMetadata } from "../singularity/metadata.js";
import { singularityOverlay } from "../singularity/overlay.js";
import { readSif, readSifObject } from "./reader.js";
import { createSif, sifPartitionOffset } from "./writer.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "sif-e2e-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("an image root with the overlay applied becomes a SIF that inspect can read", async () => {
  const input = {
    config: {
      architecture: "amd64",
      config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/sh"], Labels: { "com.example": "yes" } },
    },
    reference: "docker.io/library/alpine:3.20",
    manifestDigest: "sha256:" + "cd".repeat(32),
    created: new Date("2024-05-01T00:00:00Z"),
    toolVersion: "0.3.0",
  };
  const root = join(dir, "root");
  mkdirSync(root);
  for (const entry of singularityOverlay(input)) {
    const path = join(root, entry.path);
    if (entry.type === "dir") mkdirSync(path, { recursive: true, mode: entry.mode });
    else if (entry.type === "symlink") symlinkSync(entry.linkname ?? "", path);
    else writeFileSync(path, entry.content ?? Buffer.alloc(0));
    if (entry.type !== "symlink") chmodSync(path, entry.mode);
  }
  const meta = singularityMetadata(input);
  const sif = join(dir, "image.sif");
  const offset = sifPartitionOffset(meta);
  execFileSync("mksquashfs", [
    root,
    sif,
    "-noappend",
    "-comp",
    "gzip",
    "-quiet",
    "-all-root",
    "-o",
    String(offset),
  ]);
  await createSif(sif, { ...meta, partition: { arch: meta.architecture }, deterministicId: "e2e" });

  const listing = execFileSync("unsquashfs", ["-o", String(offset), "-lln", sif], { encoding: "utf8" });
  assert.match(listing, /^-rwxr-xr-x 0\/0 .* squashfs-root\/\.singularity\.d\/runscript$/m);
  assert.match(listing, /^-rw-r--r-- 0\/0 +0 .* squashfs-root\/etc\/hosts$/m);
  assert.match(listing, /^drwxrwxrwt 0\/0 .* squashfs-root\/tmp$/m);
  assert.match(listing, /squashfs-root\/singularity -> \.singularity\.d\/runscript$/m);

  const info = await readSif(sif);
  const inspect = info.descriptors.find((d) => d.name === "inspect-metadata.json");
  assert.ok(inspect);
  const parsed = JSON.parse((await readSifObject(sif, inspect)).toString()) as {
    data: { attributes: { labels: Record<string, string> } };
  };
  assert.equal(parsed.data.attributes.labels["com.example"], "yes");
  assert.equal(
    parsed.data.attributes.labels["org.label-schema.usage.singularity.deffile.from"],
    input.reference,
  );
  assert.equal(info.header.arch, "02");
});
