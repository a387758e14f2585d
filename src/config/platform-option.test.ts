import assert from "node:assert/strict";
import { test } from "node:test";
import { SregistryError } from "../util/errors.js";
import { parseArch, parsePlatform, platformFromOptions } from "./platform-option.js";

const settings = { os: "linux", architecture: "amd64" };

test("--arch: Apptainer's names and the common aliases", () => {
  const cases: [string, { architecture: string; variant?: string }][] = [
    ["amd64", { architecture: "amd64" }],
    ["x86_64", { architecture: "amd64" }],
    ["arm64", { architecture: "arm64", variant: "v8" }],
    ["arm64v8", { architecture: "arm64", variant: "v8" }],
    ["aarch64", { architecture: "arm64", variant: "v8" }],
    ["AArch64", { architecture: "arm64", variant: "v8" }],
    ["arm", { architecture: "arm", variant: "v7" }],
    ["armhf", { architecture: "arm", variant: "v7" }],
    ["arm32v7", { architecture: "arm", variant: "v7" }],
    ["arm32v6", { architecture: "arm", variant: "v6" }],
    ["armel", { architecture: "arm", variant: "v6" }],
    ["arm32v5", { architecture: "arm", variant: "v5" }],
    ["arm/v6", { architecture: "arm", variant: "v6" }],
    ["386", { architecture: "386" }],
    ["i686", { architecture: "386" }],
    ["ppc64le", { architecture: "ppc64le" }],
    ["ppc64el", { architecture: "ppc64le" }],
    ["s390x", { architecture: "s390x" }],
    ["riscv64", { architecture: "riscv64" }],
  ];
  for (const [name, want] of cases) assert.deepEqual(parseArch(name), want, name);
});

test("--arch: an unknown name is one error listing the known names", () => {
  assert.throws(
    () => parseArch("sparc"),
    (err: unknown) =>
      err instanceof SregistryError &&
      err.code === "USAGE" &&
      /unknown architecture "sparc".*amd64, arm64.*ppc64le.*x86_64/.test(err.message) &&
      !err.message.includes("\n"),
  );
  assert.throws(() => parseArch("arm/v7/x"), /unknown architecture/);
  assert.throws(() => parseArch(""), /unknown architecture/);
});

test("--platform: os/arch[/variant] with architecture aliases", () => {
  assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(parsePlatform("linux/aarch64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(parsePlatform("Linux/ARM/v6"), { os: "linux", architecture: "arm", variant: "v6" });
  assert.deepEqual(parsePlatform("linux/x86_64"), { os: "linux", architecture: "amd64" });
  // An architecture we have no alias for passes as written (the index may know it).
  assert.deepEqual(parsePlatform("linux/mips64le"), { os: "linux", architecture: "mips64le" });
});

test("--platform: malformed values are refused", () => {
  for (const bad of ["amd64", "linux/", "/amd64", "linux/amd64/v8/x", "linux/am d64", "linux/\u001b[31m"]) {
    assert.throws(
      () => parsePlatform(bad),
      (err: unknown) =>
        err instanceof SregistryError && err.code === "USAGE" && !err.message.includes("\u001b"),
      bad,
    );
  }
});

test("the flags override the settings; --arch keeps the settings' OS; both flags is an error", () => {
  assert.equal(platformFromOptions({}, settings), settings);
  assert.deepEqual(platformFromOptions({ arch: "arm64" }, { os: "freebsd", architecture: "amd64" }), {
    os: "freebsd",
    architecture: "arm64",
    variant: "v8",
  });
  assert.deepEqual(platformFromOptions({ platform: "linux/s390x" }, settings), {
    os: "linux",
    architecture: "s390x",
  });
  assert.throws(() => platformFromOptions({ arch: "arm64", platform: "linux/arm64" }, settings), /not both/);
});
