import assert from "node:assert/strict";
import { test } from "node:test";
import { Command, Help } from "commander";
import { CliRuntime } from "../runtime.js";
import { COMMANDS } from "./index.js";

const rt = new CliRuntime({ env: {}, stdout: process.stdout, stderr: process.stderr });

test("each summary has the name, help line and description its module registers", async () => {
  for (const summary of COMMANDS) {
    const program = new Command("sregistry");
    (await summary.load())(program, rt);
    assert.equal(program.commands.length, 1, summary.name);
    const command = program.commands[0]!;
    assert.equal(command.name(), summary.name);
    assert.equal(new Help().subcommandTerm(command), summary.term, summary.name);
    assert.equal(command.description(), summary.description, summary.name);
  }
});

test("a command name is summarised once", () => {
  const names = COMMANDS.map((summary) => summary.name);
  assert.deepEqual([...new Set(names)], names);
});
