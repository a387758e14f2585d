import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { VERSION } from "../version.js";
import { COMMANDS } from "./commands/index.js";
import { commandNamed, runCli } from "./program.js";

const base = mkdtempSync(join(tmpdir(), "sregistry-cli-"));
after(() => rmSync(base, { recursive: true, force: true }));

function memoryStream() {
  let text = "";
  return {
    write: (chunk: string) => ((text += chunk), true),
    get text() {
      return text;
    },
  };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await runCli(args, {
    env: {
      HOME: base,
      SREGISTRY_CLIENT_SECRETS: join(base, ".sregistry"),
      SREGISTRY_DATABASE: base,
      SREGISTRY_STORAGE: join(base, "shub"),
      SINGULARITY_CACHEDIR: base,
      ...env,
    },
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

test("no arguments prints the banner and help, exit 0", async () => {
  const r = await cli([]);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    new RegExp(`^Singularity Registry Global Client v${VERSION.replace(/\./g, "\\.")}\n`),
  );
  assert.match(r.stdout, /images/);
  assert.match(r.stdout, /home folder \(\$HOME when set, else the account's home\)/);
});

test("--version and version print the bare version", async () => {
  assert.deepEqual(await cli(["--version"]), { code: 0, stdout: `${VERSION}\n`, stderr: "" });
  assert.deepEqual(await cli(["version"]), { code: 0, stdout: `${VERSION}\n`, stderr: "" });
});

test("an unknown command: an ERROR line, the usage, exit 2 (as argparse in the original)", async () => {
  const r = await cli(["frobnicate"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n").filter(Boolean);
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, /^ERROR unknown command 'frobnicate'/);
  assert.match(
    lines[1]!,
    /^usage: sregistry \[--debug\] \[--quiet\] \[--version\] \{version,backend,.*images.*\} \.\.\.$/,
  );
  const missing = await cli(["get"]);
  assert.equal(missing.code, 2, "a missing argument is a usage error too");
  assert.match(missing.stderr, /^ERROR missing required argument 'query'\n$/);
});

test("get of an unknown image: ERROR line on stderr, nothing on stdout, exit 1", async () => {
  const r = await cli(["get", "nvidia/nothing:1.0"]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "ERROR image nvidia/nothing:1.0 not found in database\n");
});

test("inspect of an unknown image uses the original's wording", async () => {
  const r = await cli(["inspect", "foo"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "ERROR image foo was not found in the database\n");
});

test("images on an empty catalog prints nothing, exit 0", async () => {
  assert.deepEqual(await cli(["images"]), { code: 0, stdout: "", stderr: "" });
});

test("nvidia without a token fails with the seed's message and exit 1", async () => {
  const r = await cli(["record", "caffe2:17.10"], { SREGISTRY_CLIENT: "nvidia" });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERROR You must have an Nvidia GPU cloud token to use it\./);
  assert.doesNotMatch(r.stderr, /\n.+/);
});

test("--help on a command shows an example", async () => {
  const r = await cli(["get", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Example/);
});

test("--help lists every command with its description, from the summaries", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0);
  const listed = r.stdout.split("Commands:\n")[1]!.replace(/\s+/g, " ");
  for (const summary of COMMANDS) {
    assert.ok(listed.includes(`${summary.term} ${summary.description}`), summary.name);
  }
});

test("help <command> shows that command's options, loaded from its module", async () => {
  const r = await cli(["help", "pull"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--compression <algo\[:level\]>/);
});

test("commandNamed: the first word that is not a flag; help <command> names the command", () => {
  assert.equal(commandNamed(["--debug", "images", "--json"])?.name, "images");
  assert.equal(commandNamed(["help", "pull"])?.name, "pull");
  assert.equal(commandNamed(["rmi", "x"])?.name, "rmi");
  assert.equal(commandNamed(["--help"]), undefined);
  assert.equal(commandNamed(["frobnicate"]), undefined);
});
