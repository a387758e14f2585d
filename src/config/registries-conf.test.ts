import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  matchRule,
  mergeRules,
  parseRegistriesConf,
  readRegistriesConf,
  registriesConfFiles,
  type RegistryRule,
} from "./registries-conf.js";

const SITE = `
unqualified-search-registries = ["docker.io"]

[aliases]
"alpine" = "docker.io/library/alpine"

[[registry]]
prefix = "nvcr.io"
location = "nvcr.io"

[[registry.mirror]]
location = "cache-a.site:5000/ngc"

[[registry.mirror]]
location = "cache-b.site"
insecure = true
pull-from-mirror = "digest-only"

[[registry]]
location = "quay.io/team"
mirror-by-digest-only = true
[[registry.mirror]]
location = "quay-cache.site/team"

[[registry]]
prefix = "*.corp.example"
blocked = true

[[registry]]
prefix = "docker.io/library"
location = "hub-mirror.site/library"
insecure = true
`;

test("parses [[registry]] tables and their mirrors", () => {
  const rules = parseRegistriesConf(SITE, "site.conf");
  assert.equal(rules.length, 4);
  const [nvcr, quay, corp, hub] = rules as [RegistryRule, RegistryRule, RegistryRule, RegistryRule];
  assert.deepEqual(nvcr, {
    prefix: "nvcr.io",
    insecure: false,
    blocked: false,
    mirrors: [
      { location: "cache-a.site:5000/ngc", insecure: false, pullFromMirror: "all" },
      { location: "cache-b.site", insecure: true, pullFromMirror: "digest-only" },
    ],
    source: "site.conf",
  });
  // prefix defaults to location; mirror-by-digest-only applies to every mirror
  assert.equal(quay.prefix, "quay.io/team");
  assert.equal(quay.location, undefined);
  assert.equal(quay.mirrors[0]!.pullFromMirror, "digest-only");
  assert.equal(corp.blocked, true);
  const openshift = parseRegistriesConf('[[registry]]\nprefix = ""\nlocation = "docker.io/rocm"\n', "o.conf");
  assert.equal(openshift[0]!.prefix, "docker.io/rocm", "an empty prefix is the location");
  assert.equal(hub.location, "hub-mirror.site/library");
  assert.equal(hub.insecure, true);
});

test("matches the longest prefix, on path boundaries", () => {
  const rules = parseRegistriesConf(
    `
[[registry]]
prefix = "nvcr.io"
[[registry]]
prefix = "nvcr.io/nvidia/clara"
[[registry]]
prefix = "*.example.com"
[[registry]]
prefix = "a.example.com"
`,
    "x.conf",
  );
  assert.equal(matchRule(rules, "nvcr.io/nvidia/cuda")?.prefix, "nvcr.io");
  assert.equal(matchRule(rules, "nvcr.io/nvidia/clara/parabricks")?.prefix, "nvcr.io/nvidia/clara");
  assert.equal(matchRule(rules, "nvcr.io/nvidia/clara")?.prefix, "nvcr.io/nvidia/clara");
  assert.equal(matchRule(rules, "nvcr.io/nvidia/clarabelle")?.prefix, "nvcr.io");
  assert.equal(matchRule(rules, "nvcr.iox/nvidia/cuda"), undefined);
  assert.equal(matchRule(rules, "b.example.com/app")?.prefix, "*.example.com");
  assert.equal(matchRule(rules, "x.y.example.com:5000/app")?.prefix, "*.example.com");
  assert.equal(matchRule(rules, "example.com/app"), undefined, "a wildcard does not match the domain itself");
  assert.equal(matchRule(rules, "a.example.com/app")?.prefix, "a.example.com", "exact beats wildcard");
  assert.equal(matchRule(rules, "NVCR.IO/nvidia/cuda")?.prefix, "nvcr.io");
});

test("refuses what containers/image refuses, in one line naming the file", () => {
  const bad: [string, RegExp][] = [
    ["[[registry]\n", /bad\.conf: not valid TOML/],
    ['[[registry]]\ninsecure = "yes"\nprefix = "a.io"\n', /`insecure` must be true or false/],
    ['[[registry]]\nprefix = "*.a.io"\nlocation = "b.io"\n', /wildcard prefix .* cannot have a location/],
    ['[[registry]]\nprefix = "a.io/app:1.0"\n', /unsupported prefix "a\.io\/app:1\.0"/],
    ['[[registry]]\nprefix = "a.io"\n[[registry.mirror]]\nlocation = "https://m.io"\n', /needs a location/],
    [
      '[[registry]]\nprefix = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "sometimes"\n',
      /pull-from-mirror must be all, digest-only or tag-only/,
    ],
    [
      '[[registry]]\nprefix = "a.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "all"\n',
      /cannot be used with mirror-by-digest-only/,
    ],
    ["[[registry]]\ninsecure = true\n", /needs a `prefix` or a `location`/],
  ];
  for (const [text, message] of bad) {
    assert.throws(
      () => parseRegistriesConf(text, "bad.conf"),
      (err: Error & { code?: string }) => {
        assert.match(err.message, message);
        assert.match(err.message, /bad\.conf/);
        assert.ok(!err.message.includes("\n"), "one line");
        assert.equal(err.code, "BAD_SETTING");
        return true;
      },
    );
  }
});

test("a later table with the same prefix replaces the earlier one", () => {
  const a = parseRegistriesConf('[[registry]]\nprefix = "nvcr.io"\nblocked = true\n', "a.conf");
  const b = parseRegistriesConf(
    '[[registry]]\nprefix = "nvcr.io"\n[[registry.mirror]]\nlocation = "m.site"\n',
    "b.conf",
  );
  const merged = mergeRules(a, b);
  assert.equal(merged.length, 1);
  assert.equal(merged[0]!.blocked, false);
  assert.equal(merged[0]!.source, "b.conf");
});

test("files: CONTAINERS_REGISTRIES_CONF alone; else the user's file instead of /etc's, then drop-ins", () => {
  const dir = mkdtempSync(join(tmpdir(), "registries-conf-"));
  try {
    const named = join(dir, "named.conf");
    writeFileSync(named, '[[registry]]\nprefix = "nvcr.io"\n[[registry.mirror]]\nlocation = "m.site"\n');
    assert.deepEqual(registriesConfFiles({ CONTAINERS_REGISTRIES_CONF: named }, dir), [named]);
    assert.equal(
      readRegistriesConf({ CONTAINERS_REGISTRIES_CONF: named }, dir)[0]!.mirrors[0]!.location,
      "m.site",
    );
    assert.throws(
      () => readRegistriesConf({ CONTAINERS_REGISTRIES_CONF: join(dir, "missing.conf") }, dir),
      /missing\.conf: cannot be read \(ENOENT\)/,
    );

    const containers = join(dir, "config", "containers");
    mkdirSync(join(containers, "registries.conf.d"), { recursive: true });
    writeFileSync(join(containers, "registries.conf"), "");
    writeFileSync(join(containers, "registries.conf.d", "20-b.conf"), "");
    writeFileSync(join(containers, "registries.conf.d", "10-a.conf"), "");
    writeFileSync(join(containers, "registries.conf.d", "notes.txt"), "");
    const files = registriesConfFiles({ XDG_CONFIG_HOME: join(dir, "config") }, dir);
    assert.equal(files[0], join(containers, "registries.conf"), "the user's file replaces /etc's");
    assert.ok(!files.includes("/etc/containers/registries.conf"));
    assert.deepEqual(files.slice(-2), [
      join(containers, "registries.conf.d", "10-a.conf"),
      join(containers, "registries.conf.d", "20-b.conf"),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
