/**
 * `sregistry search [query...]`: the local catalog, plus the tags of the repository on the registry
 * for docker/nvidia (the rule is in api/search.ts).
 */
import type { Command } from "commander";
import { search, type RemoteTags } from "../../api/search.js";
import { resolveClientName } from "../../config/backend.js";
import { SregistryError } from "../../util/errors.js";
import { sanitizeForTerminal } from "../../util/terminal.js";
import { imagesTable, rowForJson } from "../rows.js";
import { chosenPlatform, withPlatformFlags } from "../platform-flags.js";
import type { CliRuntime } from "../runtime.js";

interface SearchFlags {
  local?: boolean;
  remote?: boolean;
  json?: boolean;
  insecure?: boolean;
  platform?: string;
  arch?: string;
}

export function registerSearch(program: Command, rt: CliRuntime): void {
  withPlatformFlags(program.command("search"))
    .description("search the local catalog; with the docker or nvidia backend, also list a repository's tags")
    .argument(
      "[query...]",
      "words that must all match (uri, name, tag, labels); for a registry: repositories",
    )
    .option("--local", "only search the local catalog")
    .option("--remote", "require a registry lookup (docker or nvidia backend)")
    .option("--json", "print { local: rows, remote: tag lists } as JSON")
    .option("--insecure", "plain http to the registry (like SREGISTRY_<CLIENT>_NOHTTPS=yes)")
    .addHelpText(
      "after",
      [
        "",
        "A word is looked up on the registry that `pull <word>` would use: its docker:// or nvidia://",
        "prefix, else SREGISTRY_CLIENT (or the active backend). With the default client (hub) only the",
        "catalog is searched.",
        "",
        "Examples:",
        "  sregistry search tensorflow",
        "  sregistry search nvidia://nvidia/tensorflow",
        "  SREGISTRY_CLIENT=docker sregistry search busybox --json",
        "  sregistry search --arch arm64 docker://ubuntu   (only the tags with an arm64 image)",
      ].join("\n"),
    )
    .action(async (query: string[], flags: SearchFlags) => {
      const ctx = rt.context();
      if (!flags.json) rt.announce(resolveClientName(query[0], ctx.settings).client);
      const platform = chosenPlatform(flags, ctx.settings);
      const found = await search(ctx, query, {
        local: Boolean(flags.local),
        remote: Boolean(flags.remote),
        insecure: Boolean(flags.insecure),
        ...(platform ? { platform } : {}),
      });
      if (flags.json) rt.printJson({ ...found, local: found.local.map(rowForJson) });
      else {
        if (found.local.length > 0) ctx.logger.info(imagesTable(found.local, { color: rt.color }));
        for (const entry of found.remote) printTags(rt, entry);
      }
      reportFailures(rt, found.remote);
    });
}

function printTags(rt: CliRuntime, entry: RemoteTags): void {
  if (entry.error !== undefined) return;
  // Tag names come from the registry: one line each, whatever they contain.
  const lines = [`Tags: ${sanitizeForTerminal(`${entry.registry}/${entry.repository}`)}`];
  entry.uris.forEach((uri, index) =>
    lines.push(`${String(index + 1).padEnd(2)} ${sanitizeForTerminal(uri)}`),
  );
  if (entry.uris.length === 0) lines.push("(no tags)");
  rt.logger.info(lines.join("\n"));
}

/** Registry failures: each one an ERROR line, the last one as the command's error (exit 1). */
function reportFailures(rt: CliRuntime, remote: RemoteTags[]): void {
  const failed = remote.filter((entry) => entry.error !== undefined);
  const last = failed.pop();
  for (const entry of failed) rt.logger.error(entry.error!);
  if (last) throw new SregistryError(last.error!, { code: "REMOTE_SEARCH" });
}
