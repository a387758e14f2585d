/**
 * `sregistry cache list [--json]` and `sregistry cache clean [--older-than 30d] [--max-size 50G]
 * [--all] [--dry-run]`: the blob cache's content and its cleaning (api/cache.ts). One blob per
 * line, printed with `printValue` (catalog uris come from images: control characters escaped).
 */
import type { Command } from "commander";
import { cacheClean, cacheList, type CacheEntry } from "../../api/cache.js";
import { formatBytes } from "../../util/disk.js";
import { SregistryError } from "../../util/errors.js";
import type { CliRuntime } from "../runtime.js";

const EXAMPLES = `
Examples:
  sregistry cache list
  sregistry cache list --json
  sregistry cache clean --older-than 30d --dry-run
  sregistry cache clean --max-size 50G
  sregistry cache clean --all`;

interface CleanFlags {
  olderThan?: string;
  maxSize?: string;
  all?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerCache(program: Command, rt: CliRuntime): void {
  const cache = program
    .command("cache")
    .description("list or clean the layer cache (safe while other pulls run, on any host)")
    .addHelpText("after", EXAMPLES);
  cache
    .command("list")
    .description("blobs in the cache, least recently used first, with the catalog images using them")
    .option("--json", "print the listing as JSON")
    .action(async (options: { json?: boolean }) => {
      const listing = await cacheList(rt.context());
      if (options.json) return rt.printJson(listing);
      for (const blob of listing.blobs) rt.printValue(entryLine(blob));
      rt.print(`${listing.blobs.length} blobs, ${formatBytes(listing.totalBytes)} in ${listing.root}`);
    });
  cache
    .command("clean")
    .description("remove blobs, least recently used first; blobs a running pull uses are kept")
    .option("--older-than <age>", "blobs not used for this long (30d, 12h, 2w)")
    .option("--max-size <size>", "then shrink the cache to this size (50G, 500M)")
    .option("--all", "every blob no running pull uses")
    .option("--dry-run", "say what would be removed, remove nothing")
    .option("--json", "print the result as JSON")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: CleanFlags) => {
      if (!flags.all && flags.olderThan === undefined && flags.maxSize === undefined) {
        throw new SregistryError("cache clean needs --older-than, --max-size or --all (see --help)", {
          code: "USAGE",
        });
      }
      const result = await cacheClean(rt.context(), {
        ...(flags.olderThan === undefined ? {} : { olderThan: flags.olderThan }),
        ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
        all: flags.all === true,
        dryRun: flags.dryRun === true,
      });
      if (flags.json) return rt.printJson(result);
      const verb = result.dryRun ? "would remove" : "removed";
      for (const blob of result.removed) rt.printValue(`${verb} ${entryLine(blob)}`);
      for (const blob of result.skipped) rt.printValue(`kept (in use by a running pull) ${entryLine(blob)}`);
      rt.print(
        `${verb} ${result.removed.length} blobs, ${formatBytes(result.freedBytes)}; ` +
          `${formatBytes(result.remainingBytes)} left`,
      );
    });
}

function entryLine(blob: CacheEntry): string {
  const images = blob.images.length === 0 ? "-" : blob.images.join(",");
  const held = blob.held ? " (in use)" : "";
  return `${blob.digest}  ${formatBytes(blob.size)}  ${blob.lastUsed}  ${images}${held}`;
}
