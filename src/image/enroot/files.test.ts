import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { enrootEnvironment, enrootFstab, enrootRc, shellQuote } from "./files.js";

test("environment: Env entries one per line, unquoted, as enroot's jq -r writes them", () => {
  const env = enrootEnvironment({
    config: {
      Env: ["PATH=/usr/bin:/bin", `Q=it's "x" $HOME \\ ${"${HOME}"}`, "EMPTY=", "NOEQUALS", "NL=a\nb"],
    },
  });
  assert.equal(env.text, `PATH=/usr/bin:/bin\nQ=it's "x" $HOME \\ ${"${HOME}"}\nEMPTY=\n`);
  assert.deepEqual(env.skipped, ["NOEQUALS", "NL=a\nb"]);
  assert.equal(enrootEnvironment({}).text, "");
  assert.equal(enrootEnvironment({ config: { Env: null } }).text, "");
});

test("shellQuote: bash @Q style words survive sh unchanged", () => {
  for (const word of ["plain", "a b", "it's", "", '$HOME `x` \\ "q"', "-c"]) {
    const out = spawnSync("sh", ["-c", `printf %s ${shellQuote(word)}`], { encoding: "utf8" });
    assert.equal(out.stdout, word);
  }
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

/** Runs the rc's exec lines with `exec` replaced by printing the words, for `args`. */
function execWords(rc: string, args: string[]): string[] {
  const body = rc
    .split("\n")
    .filter((l) => !l.startsWith("mkdir") && !l.startsWith("cd "))
    .join("\n")
    .replaceAll("exec ", "for w in ")
    .replace(/(for w in .*)$/gm, '$1; do printf "%s\\n" "$w"; done');
  const out = spawnSync("sh", ["-c", body, "rc", ...args], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split("\n").slice(0, -1);
}

test("rc: entrypoint and cmd combinations, as enroot's docker::configure", () => {
  const both = enrootRc({ config: { Entrypoint: ["/init", "a b"], Cmd: ["run", "it's"] } }, "docker://r#i:t");
  assert.deepEqual(execWords(both, []), ["/init", "a b", "run", "it's"]);
  assert.deepEqual(execWords(both, ["x y"]), ["/init", "a b", "x y"]);
  const cmdOnly = enrootRc({ config: { Cmd: ["bash", "-l"] } }, "u");
  assert.deepEqual(execWords(cmdOnly, []), ["bash", "-l"]);
  assert.deepEqual(execWords(cmdOnly, ["python", "-V"]), ["python", "-V"]);
  const epOnly = enrootRc({ config: { Entrypoint: ["/bin/tini", "--"] } }, "u");
  assert.deepEqual(execWords(epOnly, []), ["/bin/tini", "--"]);
  assert.deepEqual(execWords(epOnly, ["nvidia-smi"]), ["/bin/tini", "--", "nvidia-smi"]);
  // Neither: /bin/sh; string forms are ignored as enroot's `jq '.Cmd[]?'` ignores them.
  const none = enrootRc({ config: { Entrypoint: "/x", Cmd: "y" } }, "u");
  assert.deepEqual(execWords(none, []), ["/bin/sh"]);
  assert.ok(none.includes('    exec  "$@"\n'));
});

test("rc: provenance, labels as one-line comments, working directory quoted", () => {
  const rc = enrootRc(
    { config: { WorkingDir: '/w "$x"', Labels: { a: "one\ntwo", b: "c" } } },
    "docker://nvcr.io#nvidia/pytorch:24.01-py3",
  );
  assert.ok(
    rc.startsWith("# enroot-provenance: docker://nvcr.io#nvidia/pytorch:24.01-py3\n# a one two\n# b c\n\n"),
  );
  assert.ok(
    rc.includes('mkdir -p "/w \\"\\$x\\"" 2> /dev/null\ncd "/w \\"\\$x\\"" && unset OLDPWD || exit 1\n'),
  );
  assert.ok(enrootRc({}, "u").includes('cd "/" && unset OLDPWD || exit 1\n'));
  assert.ok(rc.includes("if [ -s /etc/rc.local ]; then\n    . /etc/rc.local\nfi\n"));
});

test("fstab: one bind line per volume", () => {
  assert.equal(
    enrootFstab({ config: { Volumes: { "/data": {}, "/with space": {} } } }),
    "${ENROOT_ROOTFS}/data /data none x-create=dir,bind,rw,nosuid,nodev\n",
  );
  assert.equal(enrootFstab({}), "");
});

/**
 * The rc enroot itself writes for the same config: the heredoc of `docker::configure`
 * (src/docker.sh, github.com/NVIDIA/enroot, Apache-2.0) run by bash with the arrays jq would give.
 */
function enrootsOwnRc(
  uri: string,
  labels: string[],
  workdir: string,
  entrypoint: string[],
  cmd: string[],
): string {
  const script = readFileSync(new URL("./enroot-rc.fixture.sh", import.meta.url), "utf8");
  const args = [uri, workdir, ...labels, "@@", ...entrypoint, "@@", ...cmd];
  const out = spawnSync("bash", ["-c", script, "bash", ...args], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

test("rc: byte for byte what enroot's own docker::configure writes", () => {
  const cases: { ep: string[]; cmd: string[]; wd: string }[] = [
    { ep: ["/opt/nvidia/nvidia_entrypoint.sh"], cmd: ["/bin/bash"], wd: "/workspace" },
    { ep: [], cmd: ["python3", "-c", "print('hi there')"], wd: "" },
    { ep: ["/bin/tini", "--"], cmd: [], wd: "/" },
    { ep: [], cmd: [], wd: "/opt/app" },
  ];
  for (const c of cases) {
    const config = {
      config: { Entrypoint: c.ep, Cmd: c.cmd, WorkingDir: c.wd, Labels: { maintainer: "NVIDIA" } },
    };
    const uri = "docker://nvcr.io#nvidia/pytorch:24.01-py3";
    assert.equal(enrootRc(config, uri), enrootsOwnRc(uri, ["# maintainer NVIDIA"], c.wd, c.ep, c.cmd));
  }
});
