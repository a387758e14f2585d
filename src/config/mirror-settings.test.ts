import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMirrorRules, parseDaemonJson, parseMirrorSetting } from "./mirror-settings.js";

test("SREGISTRY_MIRRORS: PREFIX=MIRROR pairs, in order, http means plain http", () => {
  const rules = parseMirrorSetting(
    " nvcr.io=https://cache.site:5000/ngc , docker.io=http://127.0.0.1:5001,nvcr.io=backup.site ",
  );
  assert.deepEqual(
    rules.map((r) => [r.prefix, r.mirrors]),
    [
      [
        "nvcr.io",
        [
          { location: "cache.site:5000/ngc", insecure: false, pullFromMirror: "all" },
          { location: "backup.site", insecure: false, pullFromMirror: "all" },
        ],
      ],
      ["docker.io", [{ location: "127.0.0.1:5001", insecure: true, pullFromMirror: "all" }]],
    ],
  );
  assert.deepEqual(parseMirrorSetting(""), []);
  assert.throws(() => parseMirrorSetting("https://cache.site"), /SREGISTRY_MIRRORS: .* is not PREFIX=MIRROR/);
  assert.throws(
    () => parseMirrorSetting("nvcr.io=ftp://cache.site"),
    /must be an http:\/\/ or https:\/\/ URL/,
  );
  assert.throws(() => parseMirrorSetting("nvcr.io=cache site"), /is not host\[:port\]\[\/path\]/);
});

test("daemon.json registry-mirrors apply to Docker Hub only", () => {
  const rules = parseDaemonJson(
    JSON.stringify({ "registry-mirrors": ["https://mirror.gcr.io", "http://10.0.0.5:5000/"], debug: true }),
    "daemon.json",
  );
  assert.equal(rules.length, 1);
  assert.equal(rules[0]!.prefix, "docker.io");
  assert.deepEqual(rules[0]!.mirrors, [
    { location: "mirror.gcr.io", insecure: false, pullFromMirror: "all" },
    { location: "10.0.0.5:5000", insecure: true, pullFromMirror: "all" },
  ]);
  assert.deepEqual(parseDaemonJson("{}", "daemon.json"), []);
  assert.throws(() => parseDaemonJson("{", "d.json"), /d\.json: not valid JSON/);
  assert.throws(
    () => parseDaemonJson(JSON.stringify({ "registry-mirrors": ["https://m.io/path"] }), "d.json"),
    /must not have a path/,
  );
});

test("sources merge daemon.json < registries.conf < SREGISTRY_MIRRORS; none turns them all off", () => {
  const dir = mkdtempSync(join(tmpdir(), "mirror-settings-"));
  try {
    const daemon = join(dir, "daemon.json");
    writeFileSync(daemon, JSON.stringify({ "registry-mirrors": ["https://hub-mirror.site"] }));
    const conf = join(dir, "registries.conf");
    writeFileSync(
      conf,
      '[[registry]]\nprefix = "nvcr.io"\n[[registry.mirror]]\nlocation = "from-conf.site"\n' +
        '[[registry]]\nprefix = "ghcr.io"\n[[registry.mirror]]\nlocation = "ghcr-cache.site"\n',
    );
    const env = {
      SREGISTRY_DOCKER_DAEMON_JSON: daemon,
      CONTAINERS_REGISTRIES_CONF: conf,
      SREGISTRY_MIRRORS: "nvcr.io=http://from-env.site",
    };
    const rules = loadMirrorRules(env, dir);
    const where = Object.fromEntries(rules.map((r) => [r.prefix, r.mirrors.map((m) => m.location)]));
    assert.deepEqual(where, {
      "docker.io": ["hub-mirror.site"],
      "nvcr.io": ["from-env.site"],
      "ghcr.io": ["ghcr-cache.site"],
    });
    assert.deepEqual(loadMirrorRules({ ...env, SREGISTRY_MIRRORS: "none" }, dir), []);
    assert.throws(
      () => loadMirrorRules({ ...env, SREGISTRY_DOCKER_DAEMON_JSON: join(dir, "nope.json") }, dir),
      /nope\.json: cannot be read/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
