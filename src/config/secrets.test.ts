import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SregistryError } from "../util/errors.js";
import { redact } from "../util/redact.js";
import { backendSection, readSecrets, updateSecrets, writeSecrets } from "./secrets.js";

const root = mkdtempSync(join(tmpdir(), "sregistry-secrets-"));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
function freshDir(): string {
  const dir = join(root, `case-${counter++}`);
  return dir;
}

test("readSecrets: a missing file is {} and is not created", () => {
  const path = join(freshDir(), ".sregistry");
  assert.deepEqual(readSecrets(path), {});
  assert.throws(() => statSync(path), /ENOENT/);
});

test("readSecrets: an empty file is {}", () => {
  const dir = freshDir();
  writeSecrets(join(dir, "x"), {});
  const path = join(dir, "empty");
  writeFileSync(path, "");
  assert.deepEqual(readSecrets(path), {});
});

test("readSecrets: malformed JSON is a SregistryError naming the file, without its content", () => {
  const dir = freshDir();
  writeSecrets(join(dir, "ok"), {});
  const path = join(dir, ".sregistry");
  writeFileSync(path, '{"nvidia": {"SREGISTRY_NVIDIA_TOKEN": "leakytoken123"');
  assert.throws(
    () => readSecrets(path),
    (err: unknown) =>
      err instanceof SregistryError &&
      err.message.includes(path) &&
      !err.message.includes("leakytoken123") &&
      err.code === "SECRETS",
  );
});

test("readSecrets: a JSON array or number is refused", () => {
  const dir = freshDir();
  writeSecrets(join(dir, "ok"), {});
  for (const text of ["[1,2]", "42", "null"]) {
    const path = join(dir, "bad");
    writeFileSync(path, text);
    assert.throws(() => readSecrets(path), /must hold a JSON object/);
  }
});

test("readSecrets registers credential values for redaction", () => {
  const dir = freshDir();
  const path = join(dir, ".sregistry");
  writeSecrets(path, {
    nvidia: { SREGISTRY_NVIDIA_TOKEN: "nvapi-registered-secret" },
    registry: { token: "tok-xyz-123" },
  });
  readSecrets(path);
  assert.equal(redact("key nvapi-registered-secret and tok-xyz-123"), "key *** and ***");
});

test("writeSecrets: indent 4, no trailing newline, mode 0600, round trip", () => {
  const path = join(freshDir(), ".sregistry");
  const data = { SREGISTRY_CLIENT: "nvidia", hub: { base: "https://singularity-hub.org/api" } };
  writeSecrets(path, data);
  const text = readFileSync(path, "utf8");
  assert.equal(text, JSON.stringify(data, null, 4));
  assert.ok(text.includes('\n    "SREGISTRY_CLIENT": "nvidia"'));
  assert.ok(!text.endsWith("\n"));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readSecrets(path), data);
});

test("writeSecrets: an existing file readable by others is rewritten 0600", () => {
  const dir = freshDir();
  const path = join(dir, ".sregistry");
  writeSecrets(path, {});
  chmodSync(path, 0o644);
  writeSecrets(path, { SREGISTRY_CLIENT: "docker" });
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test("writeSecrets leaves no temp files behind, also after many writes", () => {
  const dir = freshDir();
  const path = join(dir, ".sregistry");
  for (let i = 0; i < 20; i++) writeSecrets(path, { n: i });
  assert.deepEqual(readdirSync(dir), [".sregistry"]);
  assert.deepEqual(readSecrets(path), { n: 19 });
});

test("writeSecrets: a failed write leaves the old file and no temp file", () => {
  const dir = freshDir();
  const path = join(dir, ".sregistry");
  writeSecrets(path, { keep: true });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => writeSecrets(path, cyclic));
  assert.deepEqual(readdirSync(dir), [".sregistry"]);
  assert.deepEqual(readSecrets(path), { keep: true });
});

test("writeSecrets: a write error is a SregistryError naming the path", () => {
  const dir = freshDir();
  writeSecrets(join(dir, "a"), {});
  const path = join(dir, "a", "not-a-dir", "file");
  assert.throws(
    () => writeSecrets(path, {}),
    (err: unknown) => err instanceof SregistryError && err.message.includes(path),
  );
});

test("writeSecrets through a symbolic link replaces the target and keeps the link", () => {
  const dir = freshDir();
  const target = join(dir, "dotfiles-sregistry");
  writeSecrets(target, { old: 1 });
  const link = join(dir, ".sregistry");
  symlinkSync(target, link);
  writeSecrets(link, { new: 2 });
  assert.ok(statSync(link).isFile());
  assert.deepEqual(JSON.parse(readFileSync(target, "utf8")), { new: 2 });
  assert.equal(statSync(target).mode & 0o777, 0o600);
});

test("updateSecrets: read-modify-write, creates the file when missing", () => {
  const path = join(freshDir(), ".sregistry");
  updateSecrets(path, (s) => ({ ...s, SREGISTRY_CLIENT: "nvidia" }));
  const result = updateSecrets(path, (s) => ({
    ...s,
    docker: { SREGISTRY_DOCKERHUB_BASE: "localhost:5000" },
  }));
  assert.deepEqual(result, {
    SREGISTRY_CLIENT: "nvidia",
    docker: { SREGISTRY_DOCKERHUB_BASE: "localhost:5000" },
  });
  assert.deepEqual(readSecrets(path), result);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test("backendSection: the object under a backend, else {}", () => {
  assert.deepEqual(backendSection({ nvidia: { a: "1" } }, "nvidia"), { a: "1" });
  assert.deepEqual(backendSection({ nvidia: "oops" }, "nvidia"), {});
  assert.deepEqual(backendSection({ nvidia: ["x"] }, "nvidia"), {});
  assert.deepEqual(backendSection({}, "docker"), {});
});
