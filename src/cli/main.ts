#!/usr/bin/env node
/** The CLI program run by the `sregistry` executable (sregistry.cts, which sizes the thread pool first). */
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
