#!/usr/bin/env node
// Makes sure everything the demo and the tests use is on this machine: the external tools, the
// Python modules one catalog test opens our database with, and the PostgreSQL server programs the
// catalog tests start. As root on Debian it installs them with .ci/install-deps.sh (keep the two
// lists in step); otherwise it names, in one line, the Debian packages to install.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TOOLS = {
  "docker-registry": "docker-registry",
  skopeo: "skopeo",
  umoci: "umoci",
  mksquashfs: "squashfs-tools",
  sqfstar: "squashfs-tools",
  unsquashfs: "squashfs-tools",
  tar2sqfs: "squashfs-tools-ng",
  sqfs2tar: "squashfs-tools-ng",
  rdsquashfs: "squashfs-tools-ng",
  siftool: "siftool",
  htpasswd: "apache2-utils",
  openssl: "openssl",
  zstd: "zstd",
  lz4: "lz4",
  sqlite3: "sqlite3",
  runuser: "util-linux",
  setpriv: "util-linux",
  squashfuse_ll: "squashfuse",
  fusermount3: "fuse3",
  python3: "python3",
};

function hasCommand(tool) {
  return spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
}

// Debian's python3 first, as src/catalog/sqlalchemy-interop.test.ts does: a python3 earlier on PATH
// (pyenv, a virtualenv) may lack the Debian packages.
function hasPythonModule(name) {
  return ["/usr/bin/python3", "python3"].some((bin) => spawnSync(bin, ["-c", `import ${name}`]).status === 0);
}

// test/harness/postgres.ts runs initdb and postgres from /usr/lib/postgresql/<version>/bin.
function hasPostgresServer() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return false;
  return readdirSync(root).some((version) => existsSync(`${root}/${version}/bin/postgres`));
}

/** What is missing, as `{ what, pkg }`, e.g. [{ what: "lz4", pkg: "lz4" }]; empty when all is there. */
function missingParts() {
  const missing = Object.entries(TOOLS)
    .filter(([tool]) => !hasCommand(tool))
    .map(([what, pkg]) => ({ what, pkg }));
  if (!existsSync("/etc/ssl/certs/ca-certificates.crt"))
    missing.push({ what: "CA bundle", pkg: "ca-certificates" });
  if (!hasPythonModule("sqlalchemy")) missing.push({ what: "python3 sqlalchemy", pkg: "python3-sqlalchemy" });
  if (!hasPythonModule("psycopg2")) missing.push({ what: "python3 psycopg2", pkg: "python3-psycopg2" });
  if (!hasPostgresServer()) missing.push({ what: "PostgreSQL server", pkg: "postgresql" });
  return missing;
}

/** Installs (as root) or names what the suite needs, and exits non-zero if something stays missing. */
export function ensureTools() {
  let missing = missingParts();
  if (missing.length === 0) return;
  if (process.getuid?.() === 0) {
    const script = fileURLToPath(new URL("../.ci/install-deps.sh", import.meta.url));
    console.error(`installing missing tools (${missing.map((m) => m.what).join(", ")}) with ${script}`);
    const result = spawnSync("bash", [script], { stdio: "inherit" });
    if (result.status !== 0) process.exit(result.status ?? 1);
    missing = missingParts();
    if (missing.length === 0) return;
  }
  const packages = [...new Set(missing.map((m) => m.pkg))].join(" ");
  console.error(
    `ERROR missing for the tests: ${missing.map((m) => m.what).join(", ")}; install them with: sudo apt-get install ${packages}`,
  );
  process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureTools();
