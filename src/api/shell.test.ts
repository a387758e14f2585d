import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { Context } from "./context.js";
import { shell, type ShellOptions } from "./shell.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let temp: TempCatalog;
  let ctx: Context;
  let database: string;
  before(async () => {
    database = await backend.databaseSetting();
    temp = tempCatalog("sregistry-shell-", database);
    ctx = temp.ctx;
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
  });
  after(() => temp.dispose());

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
    const shown =
      backend.name === "sqlite" ? `sqlite:///${join(database, "sregistry.db")}` : redacted(database);
    assert.equal(first, `[client|nvidia] [database|${shown}]`);
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
    const history = join(temp.dir, "history");
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

  /** A PostgreSQL URL as the shell shows it: the password masked. */
  function redacted(url: string): string {
    const u = new URL(url);
    u.password = "***";
    return u.toString();
  }
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting for the shell");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
