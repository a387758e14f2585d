import { test } from "node:test";
import assert from "node:assert/strict";
import type { ImageConfig } from "../../oci/types.js";
import { singularityMetadata } from "./metadata.js";
import { singularityOverlay } from "./overlay.js";

const config: ImageConfig = {
  architecture: "amd64",
  os: "linux",
  created: "2024-05-01T12:00:00Z",
  config: {
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
    Entrypoint: ["/opt/nvidia/entrypoint.sh"],
    Cmd: ["/bin/bash"],
    Labels: { maintainer: "NVIDIA CORPORATION" },
    WorkingDir: "/workspace",
  },
  rootfs: { type: "layers", diff_ids: [] },
};
const input = {
  config,
  reference: "docker://nvcr.io/nvidia/pytorch:24.04-py3",
  manifestDigest: "sha256:" + "12".repeat(32),
  created: new Date("2024-05-01T12:00:00Z"),
  toolVersion: "0.3.0",
};

test("entries: dirs, emptied files, scripts, metadata, root symlinks with modes and policies", () => {
  const entries = singularityOverlay(input);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.equal(byPath.size, entries.length, "no duplicate paths");
  for (const e of entries) {
    assert.ok(!e.path.startsWith("/"), e.path);
    assert.equal(e.uid, 0);
    assert.equal(e.gid, 0);
    assert.equal(e.mtime.getTime(), input.created.getTime());
  }
  const summary = (path: string) => {
    const e = byPath.get(path);
    assert.ok(e, path);
    return [e.type, e.mode.toString(8), e.policy, e.linkname ?? e.content?.length];
  };
  assert.deepEqual(summary(".singularity.d/libs"), ["dir", "755", "ifAbsent", undefined]);
  assert.deepEqual(summary("tmp"), ["dir", "1777", "ifAbsent", undefined]);
  assert.deepEqual(summary("var/tmp"), ["dir", "1777", "ifAbsent", undefined]);
  assert.deepEqual(summary("etc/hosts"), ["file", "644", "replace", 0]);
  assert.deepEqual(summary("etc/resolv.conf"), ["file", "644", "replace", 0]);
  assert.deepEqual(summary("singularity"), ["symlink", "777", "ifAbsent", ".singularity.d/runscript"]);
  assert.deepEqual(summary(".shell"), ["symlink", "777", "ifAbsent", ".singularity.d/actions/shell"]);
  assert.deepEqual(summary("environment"), [
    "symlink",
    "777",
    "ifAbsent",
    ".singularity.d/env/90-environment.sh",
  ]);
  assert.equal(summary(".singularity.d/labels.json")[1], "644");
  assert.equal(summary(".singularity.d/Singularity")[1], "644");
  assert.equal(summary(".singularity.d/runscript")[1], "755");
  for (const dir of [
    "dev",
    "proc",
    "root",
    "etc",
    "sys",
    "home",
    ".singularity.d/actions",
    ".singularity.d/env",
  ]) {
    assert.equal(byPath.get(dir)?.type, "dir", dir);
  }
  const order = entries.map((e) => e.path);
  for (const e of entries) {
    const parent = e.path.includes("/") ? e.path.slice(0, e.path.lastIndexOf("/")) : undefined;
    if (parent !== undefined)
      assert.ok(order.indexOf(parent) < order.indexOf(e.path), `${parent} before ${e.path}`);
  }
  const text = (path: string) => byPath.get(path)?.content?.toString("utf8");
  assert.equal(
    text(".singularity.d/Singularity"),
    "bootstrap: docker\nfrom: nvcr.io/nvidia/pytorch:24.04-py3\n\n",
  );
  assert.match(
    text(".singularity.d/env/10-docker2singularity.sh") ?? "",
    /export LANG="\$\{LANG:-"C.UTF-8"\}"/,
  );
  assert.match(text(".singularity.d/runscript") ?? "", /^OCI_ENTRYPOINT='"\/opt\/nvidia\/entrypoint.sh"'$/m);
  const labels = JSON.parse(text(".singularity.d/labels.json") ?? "{}") as Record<string, string>;
  assert.equal(labels.maintainer, "NVIDIA CORPORATION");
  assert.equal(labels["org.opencontainers.image.base.digest"], input.manifestDigest);
});

test("pure: same input gives identical entries", () => {
  assert.deepEqual(singularityOverlay(input), singularityOverlay(input));
});

test("SIF metadata objects agree with the overlay files", () => {
  const meta = singularityMetadata(input);
  const inspect = JSON.parse(meta.inspectMetadata) as {
    type: string;
    data: {
      attributes: {
        labels: Record<string, string>;
        deffile: string;
        runscript: string;
        environment: Record<string, string>;
      };
    };
  };
  const files = new Map(meta.files.map((f) => [f.path, f.content]));
  assert.equal(inspect.type, "container");
  assert.equal(inspect.data.attributes.deffile + "\n\n", meta.definition);
  assert.equal(inspect.data.attributes.runscript + "\n", files.get(".singularity.d/runscript"));
  assert.deepEqual(inspect.data.attributes.labels, JSON.parse(files.get(".singularity.d/labels.json") ?? ""));
  assert.deepEqual(Object.keys(inspect.data.attributes.environment), [
    "/.singularity.d/env/10-docker2singularity.sh",
    "/.singularity.d/env/90-environment.sh",
  ]);
  assert.deepEqual(JSON.parse(meta.ociConfig), config.config);
  assert.equal(meta.architecture, "amd64");
});
