/**
 * `sregistry cache list|clean` through the CLI after a real pull: the listing names the pulled
 * image for each of its blobs, `--dry-run` removes nothing, `--all` empties the cache, a clean with
 * no criterion is one ERROR line; `--debug` and `backend status` name the catalog's journal mode.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, runCliInProcess, isolatedEnv } from "../harness/cli.js";
import { pushImage, sampleImage, type PushResult } from "../harness/fixtures.js";
import { dockerEnv } from "../harness/pull.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { databaseEnv } from "../harness/catalog-backend.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";

interface Listing {
  root: string;
  totalBytes: number;
  blobs: { digest: string; size: number; lastUsed: string; images: string[]; held: boolean }[];
}

forEachBackend((backend) => {
  describe("cache list and clean through the CLI", { timeout: 180_000 }, () => {
    let server: RegistryServer;
    let tmp: TmpDir;
    let image: PushResult;
    let env: Record<string, string>;
    let base: string;

    before(async () => {
      server = await startRegistry({ auth: "anonymous" });
      tmp = await tmpDir("commands-cache-");
      image = await pushImage(server, "library/cached:1", sampleImage());
      base = join(tmp.path, "home");
      env = { ...isolatedEnv(base), ...dockerEnv(server), ...(await databaseEnv(backend)) };
      const pulled = await runCli(["pull", "docker://library/cached:1"], { env, baseDir: base });
      assert.equal(pulled.code, 0, pulled.stderr);
    });
    after(async () => {
      await server?.stop();
      await tmp?.cleanup();
    });

    const cli = (...args: string[]) => runCliInProcess(args, env);

    it("lists every blob of the pulled image with the image's uri", async () => {
      const result = await cli("cache", "list", "--json");
      assert.equal(result.code, 0, result.stderr);
      const listing = JSON.parse(result.stdout) as Listing;
      const built = image.layout.images[0]!;
      const expected = [built.configDigest, ...built.layers.map((l) => l.digest)].sort();
      assert.deepEqual(listing.blobs.map((b) => b.digest).sort(), expected);
      for (const blob of listing.blobs) {
        assert.equal(blob.images.length, 1, blob.digest);
        assert.match(blob.images[0]!, /^library\/cached:1@[0-9a-f]{64}$/);
      }
      const text = await cli("cache", "list");
      assert.match(
        text.stdout,
        new RegExp(`^${built.configDigest}  \\S+ \\S+  \\S+  library/cached:1@[0-9a-f]{64}$`, "m"),
      );
      assert.match(text.stdout, new RegExp(`^${listing.blobs.length} blobs, .* in ${listing.root}$`, "m"));
    });

    it("clean needs a criterion, --dry-run removes nothing, --all removes everything", async () => {
      const none = await runCli(["cache", "clean"], { env, baseDir: base });
      assert.equal(none.code, 1);
      assert.equal(none.stderr, "ERROR cache clean needs --older-than, --max-size or --all (see --help)\n");
      const dry = await cli("cache", "clean", "--all", "--dry-run");
      assert.match(dry.stdout, /^would remove \d+ blobs/m);
      const count = (JSON.parse((await cli("cache", "list", "--json")).stdout) as Listing).blobs.length;
      assert.ok(count >= 2);
      const all = await cli("cache", "clean", "--all", "--json");
      assert.equal(all.code, 0, all.stderr);
      assert.equal((JSON.parse(all.stdout) as { removed: unknown[] }).removed.length, count);
      assert.deepEqual((JSON.parse((await cli("cache", "list", "--json")).stdout) as Listing).blobs, []);
    });

    // SQLite only: the journal mode of the sregistry.db file.
    it(
      "--debug says which journal the catalog uses",
      { skip: backend.name !== "sqlite" && "SQLite only: journal mode of sregistry.db" },
      async () => {
        const result = await runCli(["--debug", "images"], { env, baseDir: base });
        assert.equal(result.code, 0, result.stderr);
        assert.match(
          result.stderr + result.stdout,
          /catalog .*sregistry\.db: journal wal \(local filesystem /,
        );
      },
    );
  });
});
