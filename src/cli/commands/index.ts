/** Every command of the CLI, in help order. */
import type { Command } from "commander";
import type { CliRuntime } from "../runtime.js";
import { registerAdd } from "./add.js";
import { registerBackend } from "./backend.js";
import { registerCache } from "./cache.js";
import { registerLabels } from "./labels.js";
import { registerMv } from "./mv.js";
import { registerRename } from "./rename.js";
import { registerRm, registerRmi } from "./rm.js";
import { registerSearch } from "./search.js";
import { registerShell } from "./shell.js";
import { registerGet } from "./get.js";
import { registerImages } from "./images.js";
import { registerInspect } from "./inspect.js";
import { registerPull } from "./pull.js";
import { registerPush } from "./push.js";
import { registerPyxisImporter } from "./pyxis-importer.js";
import { registerRecord } from "./record.js";
import { registerVersion } from "./version.js";

export type RegisterCommand = (program: Command, rt: CliRuntime) => void;

export const COMMANDS: RegisterCommand[] = [
  registerVersion,
  registerBackend,
  registerShell,
  registerImages,
  registerInspect,
  registerGet,
  registerAdd,
  registerMv,
  registerRename,
  registerRm,
  registerRmi,
  registerSearch,
  registerPull,
  registerPush,
  registerLabels,
  registerRecord,
  registerCache,
  registerPyxisImporter,
];
