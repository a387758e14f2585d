import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Context } from "./context.js";
import { shell, type ShellOptions } from "./shell.js";

const dir = mkdtempSync(join(tmpdir(), "sregistry-shell-"));
mkdirSync(join(dir, "db"));
const env = {
  SREGISTRY_DATABASE: join(dir, "db"),
  SREGISTRY_STORAGE: join(dir, "s"),
  SREGISTRY_CLIENT_SECRETS: join(dir, "x"),
};
const ctx = new Context({ env, home: dir });
await ctx.catalog().upsertContainer({
  collection: "c",
  name: "one",
  tag: "1",
  version: "",
  client: "docker",
  image: null,
  url: null,
  metrics: {},
});
after(() => {
  ctx.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Feeds `lines` to a shell and returns everything it printed. */
async function drive(lines: string[], options: ShellOptions = {}): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = "";
  output.on("data", (b: Buffer) => (text += b.toString()));
  const done = shell(ctx, { input, output, terminal: false, ...options });
  for (const line of lines) input.write(line + "\n");
  input.end();
  await done;
  return text;
}

test("announces, then evaluates with client, catalog and Sregistry in scope; top-level await works", async () => {
  const out = await drive(
    [
      "(await client.images()).length",
      "client.settings.defaultClient",
      "(await catalog.listContainers())[0].uri",
      "typeof Sregistry",
      "await Promise.resolve(40 + 2)",
      ".exit",
    ],
    { backend: "nvidia" },
  );
  const first = out.split("\n")[0];
  assert.equal(first, `[client|nvidia] [database|sqlite:///${join(dir, "db", "sregistry.db")}]`);
  assert.match(out, /sregistry> 1\n/);
  assert.match(out, /sregistry> 'nvidia'\n/);
  assert.match(out, /sregistry> 'c\/one:1'\n/);
  assert.match(out, /sregistry> 'function'\n/);
  assert.match(out, /sregistry> 42\n/);
});

test("quiet: no announcement; the default client without a backend; end of input closes it", async () => {
  const out = await drive(["client.settings.defaultClient"], { quiet: true, prompt: "> " });
  assert.equal(out, "> 'hub'\n> ");
});

test("an unknown backend is an error before the shell starts", async () => {
  await assert.rejects(
    shell(ctx, { backend: "nvdia", input: new PassThrough(), output: new PassThrough() }),
    {
      message: "nvdia is not a recognized uri.",
    },
  );
});

test("on a terminal: Tab completes client methods, history goes to a 0600 file", async () => {
  const history = join(dir, "history");
  const input = new PassThrough();
  const output = new PassThrough();
  let text = "";
  output.on("data", (b: Buffer) => (text += b.toString()));
  const done = shell(ctx, { input, output, terminal: true, historyPath: history, quiet: true });
  await waitFor(() => text.includes("sregistry> "));
  input.write("client.ren\t");
  await waitFor(() => text.includes("client.rename"));
  input.write("\x15"); // Ctrl-U: clear the line
  input.write("(await client.images()).length\r");
  await waitFor(() => /\r?\n1\r?\n/.test(text));
  input.write(".exit\r");
  await done;
  assert.equal(statSync(history).mode & 0o777, 0o600);
  assert.match(readFileSync(history, "utf8"), /\(await client\.images\(\)\)\.length/);
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting for the shell");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
