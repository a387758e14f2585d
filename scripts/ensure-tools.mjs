#!/usr/bin/env node
// Makes sure the external tools the demo and the tests use are on this machine. As root on
// Debian it installs them with .ci/install-deps.sh; otherwise it says which package is missing.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const TOOLS = {
  "docker-registry": "docker-registry",
  skopeo: "skopeo",
  umoci: "umoci",
  sqfstar: "squashfs-tools",
  unsquashfs: "squashfs-tools",
  tar2sqfs: "squashfs-tools-ng",
  siftool: "siftool",
  htpasswd: "apache2-utils",
  openssl: "openssl",
  zstd: "zstd",
  sqlite3: "sqlite3",
  squashfuse_ll: "squashfuse",
  fusermount3: "fuse3",
};

function missingTools() {
  return Object.keys(TOOLS).filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
}

export function ensureTools() {
  let missing = missingTools();
  if (missing.length === 0) return;
  if (process.getuid?.() === 0) {
    const script = fileURLToPath(new URL("../.ci/install-deps.sh", import.meta.url));
    console.error(`installing missing tools (${missing.join(", ")}) with ${script}`);
    const result = spawnSync("bash", [script], { stdio: "inherit" });
    if (result.status !== 0) process.exit(result.status ?? 1);
    missing = missingTools();
    if (missing.length === 0) return;
  }
  const packages = [...new Set(missing.map((tool) => TOOLS[tool]))].join(" ");
  console.error(
    `ERROR missing tools: ${missing.join(", ")}; install them with: sudo apt-get install ${packages}`,
  );
  process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureTools();
