import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fixedSingularityFiles } from "./actions.js";
import { dockerEnvScript } from "./env-script.js";

let root = "";

/** Writes the fixed files under a temp root, with `/.singularity.d` pointed there. */
function install(extra: { path: string; content: string }[] = []): void {
  rmSync(join(root, ".singularity.d"), { recursive: true, force: true });
  for (const file of [...fixedSingularityFiles(), ...extra.map((f) => ({ ...f, mode: 0o755 }))]) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content.replaceAll("/.singularity.d", join(root, ".singularity.d")));
    chmodSync(path, file.mode);
  }
}

function action(name: string, args: string[], env: Record<string, string> = {}) {
  const path = join(root, ".singularity.d", "actions", name);
  return spawnSync(path, args, { env: { PATH: "/usr/bin:/bin", ...env }, encoding: "utf8" });
}

before(() => {
  root = mkdtempSync(join(tmpdir(), "actions-"));
});
after(() => rmSync(root, { recursive: true, force: true }));

test("every fixed file is a valid sh and bash script with a shebang, mode 0755", () => {
  for (const file of fixedSingularityFiles()) {
    assert.ok(file.content.startsWith("#!/bin/sh\n"), file.path);
    assert.equal(file.mode, 0o755);
    for (const shell of ["sh", "bash"]) {
      const result = spawnSync(shell, ["-n"], { input: file.content, encoding: "utf8" });
      assert.equal(result.status, 0, `${shell} -n ${file.path}: ${result.stderr}`);
    }
  }
  const paths = fixedSingularityFiles().map((f) => f.path);
  assert.deepEqual(paths, [
    ".singularity.d/actions/exec",
    ".singularity.d/actions/run",
    ".singularity.d/actions/shell",
    ".singularity.d/actions/start",
    ".singularity.d/actions/test",
    ".singularity.d/env/01-base.sh",
    ".singularity.d/env/90-environment.sh",
    ".singularity.d/env/95-apps.sh",
    ".singularity.d/env/99-base.sh",
    ".singularity.d/env/99-runtimevars.sh",
    ".singularity.d/startscript",
  ]);
});

test("exec loads all env scripts in order, then runs the command with its arguments", () => {
  install([
    {
      path: ".singularity.d/env/10-docker2singularity.sh",
      content: dockerEnvScript(["PATH=/img/bin:/usr/bin:/bin", "A=image a"]),
    },
  ]);
  const script = 'printf "%s|" "$A" "$PATH" "$LD_LIBRARY_PATH" "$PS1" "$1"';
  const result = action("exec", ["/bin/sh", "-c", script, "sh", "arg 1"], {
    LD_LIBRARY_PATH: "/host/lib",
    SING_USER_DEFINED_PREPEND_PATH: "/pre",
    SING_USER_DEFINED_APPEND_PATH: "/post",
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(
    result.stdout,
    "image a|/pre:/img/bin:/usr/bin:/bin:/post|/host/lib:/.singularity.d/libs|Apptainer> |arg 1|".replace(
      "/.singularity.d",
      join(root, ".singularity.d"),
    ),
  );
});

test("runtime PATH override wins and the transfer variables are removed", () => {
  install();
  const result = action(
    "exec",
    ["/bin/sh", "-c", 'printf "%s|%s" "$PATH" "${SING_USER_DEFINED_PATH-unset}"'],
    {
      SING_USER_DEFINED_PATH: "/only:/bin",
      PS1: "mine> ",
    },
  );
  assert.equal(result.stdout, "/only:/bin|unset");
  const ps1 = action("exec", ["/bin/sh", "-c", 'printf %s "$PS1"'], { PS1: "mine> " });
  assert.equal(ps1.stdout, "mine> ");
});

test("run: the runscript with arguments, else /bin/sh", () => {
  install([{ path: ".singularity.d/runscript", content: '#!/bin/sh\nprintf "ran:%s," "$@"\n' }]);
  assert.equal(action("run", ["a b", "c"]).stdout, "ran:a b,ran:c,");
  install();
  const fallback = action("run", ["-c", "echo from sh"]);
  assert.equal(fallback.stdout, "from sh\n");
  assert.match(fallback.stderr, /No runscript found/);
});

test("run/test with a missing SCIF app fail with a message", () => {
  install();
  for (const name of ["run", "test"]) {
    const result = action(name, [], { SINGULARITY_APPNAME: "nosuchapp-for-test" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /nosuchapp-for-test/);
  }
});

test("test: succeeds without a test script; runs one when present", () => {
  install();
  const none = action("test", []);
  assert.equal(none.status, 0);
  assert.match(none.stderr, /No test script/);
  install([{ path: ".singularity.d/test", content: "#!/bin/sh\nexit 7\n" }]);
  assert.equal(action("test", []).status, 7);
});

test("shell: SINGULARITY_SHELL when executable, else bash --norc with the Apptainer prompt", () => {
  install();
  const custom = action("shell", ["-c", "echo custom"], { SINGULARITY_SHELL: "/bin/sh" });
  assert.equal(custom.stdout, "custom\n");
  // -i: bash drops PS1 in non-interactive shells.
  const bash = action("shell", ["-i", "-c", 'printf %s "$PS1|$SHELL"'], { APPTAINER_NAME: "img.sif" });
  assert.equal(bash.stdout, "Apptainer img.sif:\\w> |/bin/bash");
  const broken = action("shell", ["-c", "echo fallback"], { SINGULARITY_SHELL: "/nonexistent/shell" });
  assert.equal(broken.stdout, "fallback\n");
  assert.match(broken.stderr, /not executable/);
});
