import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tinySif } from "../image/sif/tiny-sif.testing.js";
import { Context } from "./context.js";
import { add } from "./add.js";
import { failWrites, forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let dir: string;
  let storage: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sregistry-add-"));
    mkdirSync(join(dir, "db"));
    const database = backend.name === "sqlite" ? join(dir, "db") : await backend.databaseSetting();
    storage = join(dir, "shub");
    env = {
      SREGISTRY_DATABASE: database,
      SREGISTRY_STORAGE: storage,
      SREGISTRY_CLIENT_SECRETS: join(dir, "secrets"),
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function context(extra: Record<string, string> = {}): Context {
    return new Context({ env: { ...env, ...extra }, home: dir });
  }

  /** A tiny valid SIF holding `content`. */
  function imageFile(name: string, content: string): string {
    return rawFile(name, tinySif(content));
  }

  function rawFile(name: string, bytes: Buffer | string): string {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  /** The version `add` records for `imageFile(…, text)`. */
  const sha256 = (text: string) => createHash("sha256").update(tinySif(text)).digest("hex");

  /** Every file under storage (hidden staging or tombstone files included). */
  function storageFiles(): string[] {
    if (!existsSync(storage)) return [];
    return readdirSync(storage, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  }

  test("add moves the file into storage, version = sha256, client = hub by default", async () => {
    const ctx = context();
    const file = imageFile("hello.sif", "hello");
    const result = await add(ctx, file, { name: "vsoch/Hello-World" });
    const version = sha256("hello");
    const path = join(storage, "vsoch", "hello-world", `latest@${version}.sif`);
    assert.equal(result.created, true);
    assert.equal(result.uri, `vsoch/hello-world:latest@${version}`);
    assert.equal(result.path, path);
    assert.equal(result.client, "hub");
    assert.equal(existsSync(file), false, "moved, not copied");
    assert.deepEqual(readFileSync(path), tinySif("hello"));
    const row = (await ctx
      .catalog()
      .getContainer({ collection: "vsoch", name: "hello-world", tag: "latest" }))!;
    assert.equal(row.image, path);
    assert.equal(row.version, version);
    assert.equal(row.uri, result.uri);
    assert.equal(row.url, "vsoch/hello-world");
    assert.equal(JSON.parse(row.metrics).type, "container");
    assert.deepEqual(storageFiles(), [path], "no staging file left behind");
    ctx.close();
  });

  test("add --copy keeps the source; the client is the current client, a scheme is dropped (as the original)", async () => {
    const file = imageFile("a.sif", "aaa");
    const ctx = context({ SREGISTRY_CLIENT: "docker" });
    const first = await add(ctx, file, { name: "library/a:1", copy: true });
    assert.equal(first.client, "docker");
    assert.deepEqual(readFileSync(file), tinySif("aaa"));
    const second = await add(ctx, file, { name: "nvidia://library/a:2", copy: true });
    assert.equal(second.client, "docker", "the scheme does not pick the client column");
    assert.equal(second.uri, `library/a:2@${sha256("aaa")}`);
    assert.equal(JSON.parse(second.row.metrics).original, "library/a:2");
    ctx.close();
  });

  test("metrics are the original's: registry and version null, uri and storage without @version", async () => {
    const ctx = context();
    const result = await add(ctx, imageFile("m.sif", "metrics"), { name: "docker://Me/Hello:2" });
    assert.equal(result.client, "hub");
    assert.deepEqual(JSON.parse(result.row.metrics), {
      collection: "me",
      image: "hello",
      tag: "2",
      version: null,
      registry: null,
      uri: "me/hello:2",
      url: "me/hello",
      storage: "me/hello:2.sif",
      original: "Me/Hello:2",
      type: "container",
    });
    assert.equal(result.row.uri, `me/hello:2@${sha256("metrics")}`, "the row's uri has the version");
    ctx.close();
  });

  test("adding the same content again updates the row ([container][update])", async () => {
    const ctx = context();
    const first = await add(ctx, imageFile("x.sif", "same"), { name: "c/x:1" });
    const again = await add(ctx, imageFile("y.sif", "same"), { name: "c/x:1" });
    assert.equal(again.created, false);
    assert.equal(again.row.id, first.row.id);
    assert.equal((await ctx.catalog().listContainers()).length, 1);
    assert.deepEqual(storageFiles(), [first.path]);
    ctx.close();
  });

  test("a version in the uri is used as is (md5-era versions too)", async () => {
    const ctx = context();
    const md5 = "e2fc714c4727ee9395f324cd2e7f331f";
    const result = await add(ctx, imageFile("old.simg", "old"), { name: `vsoch/hello-world:latest@${md5}` });
    assert.equal(result.version, md5);
    assert.equal(result.path, join(storage, "vsoch", "hello-world", `latest@${md5}.sif`));
    ctx.close();
  });

  test("errors: no --name, missing file, a folder, bad uri — nothing moved, no row", async () => {
    const ctx = context();
    const file = imageFile("keep.sif", "keep");
    const kept = readFileSync(file);
    await assert.rejects(add(ctx, file, {}), {
      message: "You must provide an image uri --name <collection>/<namespace>",
    });
    await assert.rejects(add(ctx, join(dir, "nope.sif"), { name: "a/b" }), {
      message: `Cannot find ${join(dir, "nope.sif")}`,
    });
    await assert.rejects(add(ctx, dir, { name: "a/b" }), { message: `${dir} is not a file` });
    await assert.rejects(add(ctx, file, { name: "a/B C" }), { code: "BAD_REFERENCE" });
    await assert.rejects(add(ctx, file, { name: "a/b@notaversion" }), { code: "BAD_REFERENCE" });
    await assert.rejects(add(ctx, file, { name: "bogus://a/b" }), { code: "BAD_REFERENCE" });
    assert.deepEqual(readFileSync(file), kept);
    assert.equal((await ctx.catalog().listContainers()).length, 0);
    assert.deepEqual(storageFiles(), []);
    ctx.close();
  });

  /** `add` refuses with `message`; the source is untouched, no row, nothing in storage. */
  async function assertRefused(ctx: Context, file: string, options: object, message: RegExp) {
    const before = lstatSync(file).isSymbolicLink() ? undefined : readFileSync(file);
    await assert.rejects(add(ctx, file, { name: "c/refused", ...options }), message);
    if (before) assert.deepEqual(readFileSync(file), before, "source untouched");
    assert.ok(lstatSync(file), "source still there");
    assert.equal((await ctx.catalog().listContainers()).length, 0);
    assert.deepEqual(storageFiles(), []);
  }

  test("random bytes, an empty file, a damaged SIF: refused before anything moves", async () => {
    const ctx = context();
    const random = rawFile("random.sif", createHash("sha512").update("seed").digest());
    await assertRefused(ctx, random, {}, /random\.sif is not a SIF image \(no SIF magic\); use --force/);
    await assertRefused(ctx, rawFile("empty.sif", ""), {}, /empty\.sif is empty; it is not an image/);
    await assertRefused(ctx, rawFile("empty2.sif", ""), { force: true }, /is empty/);
    const damaged = tinySif("far");
    damaged.writeBigInt64LE(2n ** 62n, 4096 + 17); // first descriptor's offset
    const far = rawFile("far.sif", damaged);
    await assertRefused(
      ctx,
      far,
      {},
      /far\.sif is a damaged SIF image: descriptor 1 \(offset 4611686018427387904/,
    );
    await assertRefused(ctx, far, { force: true, copy: true }, /damaged SIF image/);
    ctx.close();
  });

  test("--force adds a file of another format (a Singularity 2 image, say)", async () => {
    const ctx = context();
    const old = rawFile("old.simg", "#!/usr/bin/env run-singularity\nhsqs...");
    const result = await add(ctx, old, { name: "c/old:2.4", force: true });
    assert.equal(readFileSync(result.path, "utf8"), "#!/usr/bin/env run-singularity\nhsqs...");
    ctx.close();
  });

  test("a symbolic link is never moved into storage; --copy copies the checked target", async () => {
    const ctx = context();
    const passwd = join(dir, "passwd-link.sif");
    symlinkSync("/etc/passwd", passwd);
    await assertRefused(ctx, passwd, {}, /passwd-link\.sif is a symbolic link; .* add --copy/);
    await assertRefused(ctx, passwd, { copy: true }, /passwd-link\.sif is not a SIF image/);
    const dangling = join(dir, "dangling.sif");
    symlinkSync(join(dir, "missing.sif"), dangling);
    await assertRefused(ctx, dangling, { copy: true }, /Cannot find .*dangling\.sif/);

    const target = imageFile("real.sif", "real");
    const link = join(dir, "link.sif");
    symlinkSync(target, link);
    const result = await add(ctx, link, { name: "c/linked", copy: true });
    assert.equal(lstatSync(result.path).isFile(), true, "storage holds a regular file");
    assert.deepEqual(readFileSync(result.path), tinySif("real"));
    assert.equal(result.version, sha256("real"));
    assert.equal(lstatSync(link).isSymbolicLink(), true, "the link stays");
    ctx.close();
  });

  test("a failing catalog write puts a moved file back and deletes a copy", async () => {
    const ctx = context();
    await failWrites(ctx.catalog(), "INSERT", "disk says no");
    const file = imageFile("m.sif", "moved");
    await assert.rejects(add(ctx, file, { name: "c/m" }), /disk says no/);
    assert.deepEqual(readFileSync(file), tinySif("moved"), "moved file is back");
    await assert.rejects(add(ctx, file, { name: "c/m", copy: true }), /disk says no/);
    assert.deepEqual(readFileSync(file), tinySif("moved"));
    assert.deepEqual(storageFiles(), [], "no copy, no staging file");
    assert.equal((await ctx.catalog().listContainers()).length, 0);
    ctx.close();
  });

  test("a failing update restores the file it would have replaced", async () => {
    const ctx = context();
    const md5 = "0f343b0931126a20f133d67c2b018a3b";
    const first = await add(ctx, imageFile("v1.sif", "first"), { name: `c/r:1@${md5}` });
    await failWrites(ctx.catalog(), "UPDATE", "nope");
    const second = imageFile("v2.sif", "second");
    await assert.rejects(add(ctx, second, { name: `c/r:1@${md5}` }), /nope/);
    assert.deepEqual(readFileSync(first.path), tinySif("first"), "old content restored");
    assert.deepEqual(readFileSync(second), tinySif("second"), "new file back at its place");
    assert.deepEqual(storageFiles(), [first.path]);
    ctx.close();
  });

  test("a source swapped for a link or rewritten after the first check is refused and put back", async () => {
    const ctx = context();
    const file = imageFile("swap.sif", "swap");
    // Simulates the race: the check passes, then the staged file turns out to be a link.
    const { checkStaged } = await import("./source-check.js");
    const link = join(dir, "staged-link");
    symlinkSync(file, link);
    await assert.rejects(checkStaged(link, file, false), /changed into something other than a file/);
    writeFileSync(file, "rewritten, no longer a SIF");
    await assert.rejects(checkStaged(file, file, false), /is not a SIF image/);
    ctx.close();
  });
});
