#!/usr/bin/env node
/** The `sregistry` executable. */
// Must stay the first import: it sizes the thread pool before its first use (see the module).
import "./threadpool.js";
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
