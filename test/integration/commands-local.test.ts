/** add, mv, rename, rm/rmi, labels and local search through the real CLI, on one isolated home. */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tinySif } from "../../src/image/sif/tiny-sif.testing.js";
import { isolatedEnv, runCli, type CliResult, runCliInProcess } from "../harness/cli.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { announcedDatabase, databaseEnv, sqlOutside } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

forEachBackend((backend) => {
  let base: TmpDir;
  let storage: string;
  let announce: string;
  let env: Record<string, string>;
  const cli = (...args: string[]): Promise<CliResult> => runCliInProcess(args, env);
  /** Through the real executable. */
  const cliProcess = (...args: string[]): Promise<CliResult> => runCli(args, { baseDir: base.path, env });
  /** The version `add` records for `file(…, text)`. */
  const sha256 = (text: string) => createHash("sha256").update(tinySif(text)).digest("hex");

  /** A tiny valid SIF holding `content`. */
  function file(name: string, content: string): string {
    const path = join(base.path, name);
    writeFileSync(path, tinySif(content));
    return path;
  }

  /** Exactly one ERROR line on stderr, nothing on stdout, exit 1. */
  function assertOneError(result: CliResult, message: string | RegExp): void {
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "");
    const lines = result.stderr.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, result.stderr);
    if (typeof message === "string") assert.equal(lines[0], `ERROR ${message}`);
    else assert.match(lines[0]!, message);
  }

  before(async () => {
    base = await tmpDir("sregistry-cli-local-");
    storage = join(base.path, ".singularity", "shub");
    env = { ...isolatedEnv(base.path), ...(await databaseEnv(backend)) };
    mkdirSync(join(base.path, ".singularity"));
    announce = `[client|hub] [database|${announcedDatabase(env)}]\n`;
  });
  after(() => base.cleanup());

  test("add: new, then update; the file is moved, or copied with --copy", async () => {
    const hello = file("hello.sif", "hello");
    const version = sha256("hello");
    const added = await cliProcess("add", hello, "--name", "vsoch/hello-world", "--copy");
    assert.deepEqual(added, {
      code: 0,
      stdout: `[container][new] vsoch/hello-world:latest@${version}\n`,
      stderr: "",
    });
    assert.ok(existsSync(hello), "--copy keeps the source");
    const again = await cli("add", hello, "--name", "vsoch/hello-world");
    assert.equal(again.stdout, `[container][update] vsoch/hello-world:latest@${version}\n`);
    assert.equal(existsSync(hello), false, "moved");
    assert.deepEqual(
      readFileSync(join(storage, "vsoch", "hello-world", `latest@${version}.sif`)),
      tinySif("hello"),
    );
    const json = await cli("add", file("two.sif", "two"), "--name", "docker://vsoch/two:1", "--json");
    const parsed = JSON.parse(json.stdout) as { created: boolean; client: string; uri: string };
    assert.deepEqual(
      [parsed.created, parsed.client, parsed.uri],
      [true, "hub", `vsoch/two:1@${sha256("two")}`],
    );
    const get = await cli("get", "vsoch/hello-world");
    assert.equal(get.stdout, `${join(storage, "vsoch", "hello-world", `latest@${version}.sif`)}\n`);
  });

  test("add errors: missing file, no --name, bad uri — one ERROR line each, nothing lost", async () => {
    const keep = file("keep.sif", "keep");
    assertOneError(
      await cli("add", join(base.path, "nope.sif"), "--name", "a/b"),
      `Cannot find ${join(base.path, "nope.sif")}`,
    );
    assertOneError(await cli("add", keep), "You must provide an image uri --name <collection>/<namespace>");
    assertOneError(
      await cli("add", keep, "--name", "a/b@xyz"),
      /^ERROR invalid image uri "a\/b@xyz": bad version/,
    );
    assertOneError(await cli("add", keep, "--name", "nope://a/b"), "nope is not a recognized uri.");
    assert.deepEqual(readFileSync(keep), tinySif("keep"));
  });

  test("mv to a folder, then rename brings it back into storage under the new name", async () => {
    const version = sha256("hello");
    const out = join(base.path, "out");
    mkdirSync(out);
    const moved = await cliProcess("mv", "vsoch/hello-world", out);
    assert.deepEqual(moved, {
      code: 0,
      stdout: `${announce}[move] latest@${version}.sif => ${join(out, `latest@${version}.sif`)}\n`,
      stderr: "",
    });
    assert.deepEqual(readdirSync(out), [`latest@${version}.sif`]);
    const renamed = await cli("rename", "vsoch/hello-world", "mine/hello:v1");
    const to = join(storage, "mine", "hello", `v1@${version}.sif`);
    assert.deepEqual(renamed, {
      code: 0,
      stdout: `${announce}[rename] latest@${version}.sif => ${to}\n`,
      stderr: "",
    });
    assert.deepEqual(readFileSync(to), tinySif("hello"));
    assert.deepEqual(readdirSync(out), []);
    const images = await cli("images");
    assert.match(images.stdout, new RegExp(`\\[hub\\]\\tmine/hello:v1@${version}\\n`));
    assert.ok(!images.stdout.includes("vsoch/hello-world"));
  });

  test("mv/rename of an unknown image: WARNING … not found, exit 0 (as the original); other errors exit 1", async () => {
    assert.deepEqual(await cli("--quiet", "mv", "no/such", base.path), {
      code: 0,
      stdout: "",
      stderr: "WARNING no/such not found\n",
    });
    assert.deepEqual(await cli("--quiet", "rename", "no/such", "x/y"), {
      code: 0,
      stdout: "",
      stderr: "WARNING no/such not found\n",
    });
    assertOneError(
      await cli("--quiet", "mv", "mine/hello:v1", join(base.path, "missing", "x.sif")),
      `Destination directory ${join(base.path, "missing")} does not exist`,
    );
    assertOneError(await cli("--quiet", "mv", "mine/hello:V 1", base.path), /^ERROR invalid image uri/);
    assert.ok(existsSync(join(storage, "mine", "hello", `v1@${sha256("hello")}.sif`)));
  });

  test("mv/rename of a remote record or a missing file: a WARNING, exit 0, catalog unchanged", async () => {
    const dump = () =>
      sqlOutside(env, "SELECT * FROM container ORDER BY id") +
      sqlOutside(env, "SELECT name FROM collection ORDER BY id");
    await cli("add", file("rec.sif", "rec"), "--name", "rem/img:1");
    sqlOutside(
      env,
      "UPDATE container SET image = NULL, url = 'https://r.example/v2/rem/img/manifests/1' WHERE name = 'img' AND tag = '1'",
    );
    const before = dump();
    const renamed = await cli("--quiet", "rename", "rem/img:1", "other/img:1");
    assert.deepEqual([renamed.code, renamed.stdout], [0, ""]);
    assert.match(
      renamed.stderr,
      /^WARNING rem\/img:1 is a remote record \(https:\/\/r\.example\/v2\/rem\/img\/manifests\/1\); it has no image file\n$/,
    );
    const moved = await cli("--quiet", "mv", "rem/img:1", base.path);
    assert.deepEqual([moved.code, moved.stdout], [0, ""]);
    assert.match(moved.stderr, /^WARNING rem\/img:1 is a remote record/);
    assert.equal(dump(), before, "rows and collections unchanged");
    assert.equal((await cli("--quiet", "rm", "rem/img:1")).code, 0, "rm of a remote record exits 0");

    const lost = JSON.parse(
      (await cli("add", file("lost.sif", "lost"), "--name", "rem/lost:1", "--json")).stdout,
    ) as {
      path: string;
    };
    rmSync(lost.path);
    const withFile = dump();
    for (const args of [
      ["mv", "rem/lost:1", base.path],
      ["rename", "rem/lost:1", "other/lost:1"],
    ]) {
      assert.deepEqual(await cli("--quiet", ...args), {
        code: 0,
        stdout: "",
        stderr: `WARNING image file ${lost.path} of rem/lost:1 does not exist on the file system\n`,
      });
    }
    assert.equal(dump(), withFile, "a missing file: rows unchanged too");
    assert.equal((await cli("--quiet", "rm", "rem/lost:1")).code, 1);
  });

  test("add refuses what is not an image: one ERROR line each, nothing moved; --force for other formats", async () => {
    const junk = file("junk.bin", "x");
    writeFileSync(junk, "random bytes, not an image");
    assertOneError(
      await cli("add", junk, "--name", "j/unk"),
      `${junk} is not a SIF image (no SIF magic); use --force to add a file of another format anyway`,
    );
    const empty = join(base.path, "empty.sif");
    writeFileSync(empty, "");
    assertOneError(await cli("add", empty, "--name", "j/empty"), `${empty} is empty; it is not an image`);
    const { symlinkSync } = await import("node:fs");
    const link = join(base.path, "passwd.sif");
    symlinkSync("/etc/passwd", link);
    assertOneError(
      await cli("add", link, "--name", "j/link"),
      /^ERROR .*passwd\.sif is a symbolic link; .*--copy/,
    );
    assertOneError(await cli("add", link, "--name", "j/link", "--copy"), /passwd\.sif is not a SIF image/);
    assert.equal((await cli("images", "j")).stdout, "");
    const forced = await cli("add", junk, "--name", "j/unk", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^\[container\]\[new\] j\/unk:latest@[0-9a-f]{64}\n$/);
    assert.equal((await cli("--quiet", "rm", "j/unk")).code, 0);
  });

  test("labels and local search", async () => {
    await cli("add", file("l.sif", "labelled"), "--name", "lab/img:1");
    // Labels come from metrics; give this row some as a pull would.
    sqlOutside(
      env,
      `UPDATE container SET metrics = '{"labels": {"maintainer": "Ada", "org.opencontainers.image.version": "1.0"}}' WHERE name = 'img'`,
    );
    assert.deepEqual(await cli("labels", "--key", "MAINT"), {
      code: 0,
      stdout: `lab/img:1@${sha256("labelled")}\n  maintainer:Ada\n`,
      stderr: "",
    });
    const json = JSON.parse((await cli("labels", "-v", "1.0", "--json")).stdout) as {
      uri: string;
      labels: unknown;
    }[];
    assert.deepEqual(
      json.map((i) => [i.uri, i.labels]),
      [[`lab/img:1@${sha256("labelled")}`, [{ key: "org.opencontainers.image.version", value: "1.0" }]]],
    );
    assert.deepEqual(await cli("labels", "--key", "nothing"), { code: 0, stdout: "", stderr: "" });

    const found = await cli("search", "ada");
    assert.equal(found.code, 0, found.stderr);
    assert.match(
      found.stdout,
      new RegExp(
        `^${escape(announce)}Containers: {3}\\[date\\] {3}\\[client\\]\\t\\[uri\\]\\n1 {2}.*\\tlab/img:1@`,
      ),
    );
    const none = await cli("search", "zzz", "--json");
    assert.deepEqual(JSON.parse(none.stdout), { local: [], remote: [] });
  });

  test("rm prints the path and removes file, row and empty folders; rmi is the same; not found exits 1", async () => {
    const path = join(storage, "lab", "img", `1@${sha256("labelled")}.sif`);
    assert.deepEqual(await cliProcess("rm", "lab/img:1"), {
      code: 0,
      stdout: `${announce}${path}\n`,
      stderr: "",
    });
    assert.equal(existsSync(join(storage, "lab")), false);
    assertOneError(
      await cliProcess("--quiet", "rm", "lab/img:1"),
      "No lab/img:1 record found in the database",
    );
    const rmi = await cli("--quiet", "rmi", "vsoch/two:1");
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal(rmi.stdout, `${join(storage, "vsoch", "two", `1@${sha256("two")}.sif`)}\n`);
  });

  test("rm of a row whose file is gone: the path, a WARNING, an ERROR, exit 1 (as the original), row removed", async () => {
    const added = JSON.parse(
      (await cli("add", file("gone.sif", "gone"), "--name", "x/gone", "--json")).stdout,
    ) as {
      path: string;
    };
    rmSync(added.path);
    assert.deepEqual(await cli("--quiet", "rm", "x/gone"), {
      code: 1,
      stdout: `${added.path}\n`,
      stderr:
        `WARNING image file ${added.path} does not exist on the file system!\n` +
        "ERROR the image file of x/gone was already gone; its catalog row is removed\n",
    });
    assertOneError(await cli("--quiet", "get", "x/gone"), "image x/gone not found in database");
  });

  test("every command of this set has --help with an example", async () => {
    for (const command of ["add", "mv", "rename", "rm", "rmi", "search", "labels", "shell", "backend"]) {
      const help = await cli(command, "--help");
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, /Examples?:\n {2}(sregistry|singularity)/, command);
    }
  });

  function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
});
