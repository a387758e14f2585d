import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containersAuthFiles, mirrorKeychain } from "./mirror-credentials.js";

const auth = (user: string, pass: string) => ({ auth: Buffer.from(`${user}:${pass}`).toString("base64") });

test("containers-auth.json files come in containers-auth.json(5) order", () => {
  assert.deepEqual(containersAuthFiles({ XDG_RUNTIME_DIR: "/run/user/7", HOME: "/h" }, "/pw"), [
    "/run/user/7/containers/auth.json",
    "/h/.config/containers/auth.json",
  ]);
  assert.deepEqual(
    containersAuthFiles(
      { REGISTRY_AUTH_FILE: "/a.json", XDG_RUNTIME_DIR: "/run/user/7", XDG_CONFIG_HOME: "/c" },
      "/pw",
    ),
    ["/a.json", "/c/containers/auth.json"],
  );
  assert.deepEqual(containersAuthFiles({}, "/pw"), ["/pw/.config/containers/auth.json"]);
});

test("a mirror's credentials are found by its host: podman login first, then docker login", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mirror-credentials-"));
  try {
    mkdirSync(join(dir, "run", "containers"), { recursive: true });
    writeFileSync(
      join(dir, "run", "containers", "auth.json"),
      JSON.stringify({ auths: { "cache.site:5000": auth("podman", "p-secret") } }),
    );
    const docker = join(dir, "docker.json");
    writeFileSync(
      docker,
      JSON.stringify({
        auths: { "cache.site:5000": auth("docker", "d-secret"), "other.site": auth("o", "o-secret") },
      }),
    );
    const keychain = mirrorKeychain({ XDG_RUNTIME_DIR: join(dir, "run"), HOME: dir }, dir, docker);
    const podman = await keychain.resolve("cache.site:5000");
    assert.deepEqual([podman?.username, podman?.password], ["podman", "p-secret"]);
    assert.match(podman?.source ?? "", /run\/containers\/auth\.json$/, "errors can name the file");
    const other = await keychain.resolve("other.site");
    assert.deepEqual([other?.username, other?.password], ["o", "o-secret"]);
    assert.match(other?.source ?? "", /docker\.json$/);
    assert.equal(await keychain.resolve("nvcr.io"), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
