#!/usr/bin/env node
/** The `sregistry` executable. */
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
