/** Every command of the CLI, in help order. */
import type { Command } from "commander";
import type { CliRuntime } from "../runtime.js";
import { registerGet } from "./get.js";
import { registerImages } from "./images.js";
import { registerInspect } from "./inspect.js";
import { registerPull } from "./pull.js";
import { registerRecord } from "./record.js";
import { registerVersion } from "./version.js";

export type RegisterCommand = (program: Command, rt: CliRuntime) => void;

export const COMMANDS: RegisterCommand[] = [
  registerVersion,
  registerImages,
  registerInspect,
  registerGet,
  registerPull,
  registerRecord,
];
