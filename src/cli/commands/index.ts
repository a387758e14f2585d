/**
 * Every command of the CLI, in help order, as a summary (name, help line, description) and a loader
 * of the module that registers it in full.
 *
 * A run imports only the module of the command it runs: the command modules import their
 * implementations (the catalog, the registry client, the image builder), and loading all of them
 * made every command, `version` included, pay for the whole import graph (ARCHITECTURE.md,
 * "Start-up"). `sregistry --help` is built from the summaries alone; a test checks that they match
 * what the modules register.
 *
 * @example
 * ```ts
 * const images = COMMANDS.find((command) => command.name === "images")!;
 * (await images.load())(program, rt); // registers `images` with its options and action
 * ```
 */
import type { Command } from "commander";
import type { CliRuntime } from "../runtime.js";

export type RegisterCommand = (program: Command, rt: CliRuntime) => void;

export interface CommandSummary {
  name: string;
  /** The command's line in the root help: name, `[options]` when it has any, arguments. */
  term: string;
  description: string;
  /** False for a command that never opens the catalog or the settings. */
  usesContext: boolean;
  load: () => Promise<RegisterCommand>;
}

export const COMMANDS: readonly CommandSummary[] = [
  {
    name: "version",
    term: "version",
    description: "print the version",
    usesContext: false,
    load: async () => (await import("./version.js")).registerVersion,
  },
  {
    name: "backend",
    term: "backend [options] [words...]",
    description: "list, activate and configure backends (clients) in the secrets file",
    usesContext: true,
    load: async () => (await import("./backend.js")).registerBackend,
  },
  {
    name: "shell",
    term: "shell [backend]",
    description: "interactive shell (Node REPL) with a client for the backend, the catalog and Sregistry",
    usesContext: true,
    load: async () => (await import("./shell.js")).registerShell,
  },
  {
    name: "images",
    term: "images [options] [query...]",
    description: "list images in the local catalog",
    usesContext: true,
    load: async () => (await import("./images.js")).registerImages,
  },
  {
    name: "inspect",
    term: "inspect [options] <query>",
    description: "show an image's catalog record (manifests and config in metrics)",
    usesContext: true,
    load: async () => (await import("./inspect.js")).registerInspect,
  },
  {
    name: "get",
    term: "get <query>",
    description: "print the local path of an image, or its manifest URL for a remote record",
    usesContext: true,
    load: async () => (await import("./get.js")).registerGet,
  },
  {
    name: "add",
    term: "add [options] <image>",
    description:
      "add a local SIF image to storage and the catalog (moved, or copied with --copy); it is checked first",
    usesContext: true,
    load: async () => (await import("./add.js")).registerAdd,
  },
  {
    name: "mv",
    term: "mv [options] <image> <path>",
    description: "move an image file to a folder or file path and update its catalog row",
    usesContext: true,
    load: async () => (await import("./mv.js")).registerMv,
  },
  {
    name: "rename",
    term: "rename [options] <image> <newuri>",
    description: "give an image a new uri (the version is kept) and move its file to match",
    usesContext: true,
    load: async () => (await import("./rename.js")).registerRename,
  },
  {
    name: "rm",
    term: "rm [options] <image>",
    description: "remove an image: its catalog row and its file",
    usesContext: true,
    load: async () => (await import("./rm.js")).registerRm,
  },
  {
    name: "rmi",
    term: "rmi [options] <image>",
    description: "same as rm",
    usesContext: true,
    load: async () => (await import("./rm.js")).registerRmi,
  },
  {
    name: "search",
    term: "search [options] [query...]",
    description: "search the local catalog; with the docker or nvidia backend, also list a repository's tags",
    usesContext: true,
    load: async () => (await import("./search.js")).registerSearch,
  },
  {
    name: "pull",
    term: "pull [options] <image>",
    description: "pull an image from a registry into a SIF file in storage, and record it",
    usesContext: true,
    load: async () => (await import("./pull.js")).registerPull,
  },
  {
    name: "push",
    term: "push <image> <target>",
    description: "upload a SIF (a file or a catalog image) to an OCI registry as oras://, like Apptainer",
    usesContext: true,
    load: async () => (await import("./push.js")).registerPush,
  },
  {
    name: "labels",
    term: "labels [options]",
    description: "search image labels in the local catalog (key and value: case-insensitive parts)",
    usesContext: true,
    load: async () => (await import("./labels.js")).registerLabels,
  },
  {
    name: "record",
    term: "record [options] <image>",
    description: "record an image's manifests and config in the catalog, without downloading layers",
    usesContext: true,
    load: async () => (await import("./record.js")).registerRecord,
  },
  {
    name: "cache",
    term: "cache",
    description: "list or clean the layer cache (safe while other pulls run, on any host)",
    usesContext: true,
    load: async () => (await import("./cache.js")).registerCache,
  },
  {
    name: "pyxis-importer",
    term: "pyxis-importer",
    description: "Pyxis importer plugin: squashfs images from a digest-keyed cache shared by job steps",
    usesContext: true,
    load: async () => (await import("./pyxis-importer.js")).registerPyxisImporter,
  },
];
