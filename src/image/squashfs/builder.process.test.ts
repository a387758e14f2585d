/**
 * The squashfs tool dies with its parent: a tool that has read all its input and is still busy
 * compressing (a stand-in `tar2sqfs` that drains stdin, then works for 30 s) must be gone within
 * a second of a SIGKILL to the process that started it, every time. A closed stdin cannot stop it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { dieWithParent } from "./tools.js";

const PROJECT = fileURLToPath(new URL("../../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./orphan-child.fixture.testing.ts", import.meta.url));

/** Running, not a zombie waiting to be reaped (state field of /proc/<pid>/stat). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe(
  "squashfs tool and a killed parent",
  { skip: dieWithParent().length === 0 && "setpriv --pdeathsig missing" },
  () => {
    let dir: string;
    const leftovers: number[] = [];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "squashfs-orphan-"));
      // Answers the version probe; otherwise records its pid, reads all input, then keeps busy.
      const fake = [
        "#!/bin/sh",
        'if [ "$1" = "--version" ]; then echo "tar2sqfs (stand-in) 1.2.0"; exit 0; fi',
        `echo $$ > "${dir}/tool.pid"`,
        "cat > /dev/null",
        `: > "${dir}/tool.compressing"`,
        // Lives ten minutes on its own: if it is gone sooner, its parent's death took it.
        "exec sleep 600",
      ].join("\n");
      await writeFile(join(dir, "tar2sqfs"), fake + "\n");
      await chmod(join(dir, "tar2sqfs"), 0o755);
    });

    after(async () => {
      for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, "SIGKILL");
      await rm(dir, { recursive: true, force: true });
    });

    // Without the parent-death handling each round would wait the tool's 600 s: the timeout fails it.
    it("dies with its parent on SIGKILL, 8 times out of 8", { timeout: 240_000 }, async () => {
      const lingered: number[] = [];
      for (let round = 0; round < 8; round++) {
        await rm(join(dir, "tool.pid"), { force: true });
        await rm(join(dir, "tool.compressing"), { force: true });
        const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` };
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, join(dir, "out.sqfs")], {
          cwd: PROJECT,
          env,
          stdio: "ignore",
        });
        const exited = new Promise((resolve) => child.on("close", resolve));
        // Past `cat`: the input has ended, the tool is "compressing".
        while (!existsSync(join(dir, "tool.compressing"))) await sleep(20);
        const pid = Number((await readFile(join(dir, "tool.pid"), "utf8")).trim());
        leftovers.push(pid);
        assert.ok(isAlive(pid), "the tool runs");
        const killedAt = performance.now();
        child.kill("SIGKILL");
        // Wait for the tool to end (the test's timeout is the hang guard), then note how long it took.
        while (isAlive(pid)) await sleep(5);
        lingered.push(Math.round(performance.now() - killedAt));
        await exited;
      }
      console.log(`# the tool outlived its parent by (ms): ${lingered.join(", ")}`);
      assert.equal(lingered.length, 8, "all 8 tools ended long before their own 600 s");
      assert.ok(!leftovers.some(isAlive), "no tool is left running");
    });
  },
);
