import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEnrootCredentials } from "./enroot-netrc.js";

test("entries: literal, $NAME, ${NAME} and command passwords; comments and blank lines ignored", () => {
  const text = [
    "# NVIDIA GPU Cloud (both endpoints are required)",
    "machine nvcr.io login $oauthtoken password nvapi-123",
    "  machine authn.nvidia.com   login $oauthtoken password $NGC_API_KEY  ",
    "",
    "machine Registry-1.Docker.IO login alice password ${HUB_PASSWORD}",
    "machine us-docker.pkg.dev login oauth2accesstoken password $(gcloud auth print-access-token)",
  ].join("\n");
  const { entries, problems } = parseEnrootCredentials(text);
  assert.deepEqual(problems, []);
  assert.deepEqual(entries, [
    { line: 2, machine: "nvcr.io", login: "$oauthtoken", password: { kind: "literal", value: "nvapi-123" } },
    {
      line: 3,
      machine: "authn.nvidia.com",
      login: "$oauthtoken",
      password: { kind: "variable", name: "NGC_API_KEY" },
    },
    {
      line: 5,
      machine: "registry-1.docker.io",
      login: "alice",
      password: { kind: "variable", name: "HUB_PASSWORD" },
    },
    {
      line: 6,
      machine: "us-docker.pkg.dev",
      login: "oauth2accesstoken",
      password: { kind: "command", text: "$(gcloud auth print-access-token)" },
    },
  ]);
});

test("bad lines are reported by number with a reason that never repeats the line", () => {
  const text = [
    "machine nvcr.io login $oauthtoken", // no password
    "machine nvcr.io password secret-1 login x", // wrong order
    "default login x password secret-2",
    "machine a.io login x password secret 3", // two words
    "machine ok.io login x password fine",
    "login x password secret-4",
  ].join("\r\n");
  const { entries, problems } = parseEnrootCredentials(text);
  assert.deepEqual(
    entries.map((e) => e.machine),
    ["ok.io"],
  );
  assert.deepEqual(
    problems.map((p) => p.line),
    [1, 2, 3, 4, 6],
  );
  for (const problem of problems) assert.doesNotMatch(problem.reason, /secret/);
});

test("$ followed by anything but a plain name is a command (never a variable)", () => {
  for (const password of ["$(cat key)", "$HOME/x", "${A}${B}", "$`id`", "$1"]) {
    const { entries } = parseEnrootCredentials(`machine a.io login x password ${password}`);
    assert.deepEqual(entries[0]?.password, { kind: "command", text: password }, password);
  }
});
