import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Context } from "./context.js";
import { add } from "./add.js";

let dir: string;
let storage: string;
let env: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sregistry-add-"));
  storage = join(dir, "shub");
  env = {
    SREGISTRY_DATABASE: join(dir, "db"),
    SREGISTRY_STORAGE: storage,
    SREGISTRY_CLIENT_SECRETS: join(dir, "secrets"),
  };
  mkdirSync(env.SREGISTRY_DATABASE!);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function context(extra: Record<string, string> = {}): Context {
  return new Context({ env: { ...env, ...extra }, home: dir });
}

function imageFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

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
  assert.equal(readFileSync(path, "utf8"), "hello");
  const row = ctx.catalog().getContainer({ collection: "vsoch", name: "hello-world", tag: "latest" })!;
  assert.equal(row.image, path);
  assert.equal(row.version, version);
  assert.equal(row.uri, result.uri);
  assert.equal(row.url, "vsoch/hello-world");
  assert.equal(JSON.parse(row.metrics).type, "container");
  assert.deepEqual(storageFiles(), [path], "no staging file left behind");
  ctx.close();
});

test("add --copy keeps the source; the client comes from the scheme or SREGISTRY_CLIENT", async () => {
  const file = imageFile("a.sif", "aaa");
  const ctx = context({ SREGISTRY_CLIENT: "docker" });
  const first = await add(ctx, file, { name: "library/a:1", copy: true });
  assert.equal(first.client, "docker");
  assert.equal(readFileSync(file, "utf8"), "aaa");
  const second = await add(ctx, file, { name: "nvidia://library/a:2", copy: true });
  assert.equal(second.client, "nvidia");
  assert.equal(second.uri, `library/a:2@${sha256("aaa")}`);
  ctx.close();
});

test("adding the same content again updates the row ([container][update])", async () => {
  const ctx = context();
  const first = await add(ctx, imageFile("x.sif", "same"), { name: "c/x:1" });
  const again = await add(ctx, imageFile("y.sif", "same"), { name: "c/x:1" });
  assert.equal(again.created, false);
  assert.equal(again.row.id, first.row.id);
  assert.equal(ctx.catalog().listContainers().length, 1);
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
  await assert.rejects(add(ctx, file, {}), {
    message: "You must provide an image uri --name <collection>/<namespace>",
  });
  await assert.rejects(add(ctx, join(dir, "nope.sif"), { name: "a/b" }), {
    message: `Cannot find ${join(dir, "nope.sif")}`,
  });
  await assert.rejects(add(ctx, dir, { name: "a/b" }), { message: `${dir} is not a file` });
  await assert.rejects(add(ctx, file, { name: "a/B C" }), { code: "BAD_REFERENCE" });
  await assert.rejects(add(ctx, file, { name: "a/b@notaversion" }), { code: "BAD_REFERENCE" });
  await assert.rejects(add(ctx, file, { name: "bogus://a/b" }), { code: "BAD_URI" });
  assert.equal(readFileSync(file, "utf8"), "keep");
  assert.equal(ctx.catalog().listContainers().length, 0);
  assert.deepEqual(storageFiles(), []);
  ctx.close();
});

test("a failing catalog write puts a moved file back and deletes a copy", async () => {
  const ctx = context();
  ctx
    .catalog()
    .db.exec("CREATE TRIGGER boom BEFORE INSERT ON container BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
  const file = imageFile("m.sif", "moved");
  await assert.rejects(add(ctx, file, { name: "c/m" }), /disk says no/);
  assert.equal(readFileSync(file, "utf8"), "moved", "moved file is back");
  await assert.rejects(add(ctx, file, { name: "c/m", copy: true }), /disk says no/);
  assert.equal(readFileSync(file, "utf8"), "moved");
  assert.deepEqual(storageFiles(), [], "no copy, no staging file");
  assert.equal(ctx.catalog().listContainers().length, 0);
  ctx.close();
});

test("a failing update restores the file it would have replaced", async () => {
  const ctx = context();
  const md5 = "0f343b0931126a20f133d67c2b018a3b";
  const first = await add(ctx, imageFile("v1.sif", "first"), { name: `c/r:1@${md5}` });
  ctx
    .catalog()
    .db.exec("CREATE TRIGGER boom BEFORE UPDATE ON container BEGIN SELECT RAISE(ABORT, 'nope'); END");
  const second = imageFile("v2.sif", "second");
  await assert.rejects(add(ctx, second, { name: `c/r:1@${md5}` }), /nope/);
  assert.equal(readFileSync(first.path, "utf8"), "first", "old content restored");
  assert.equal(readFileSync(second, "utf8"), "second", "new file back at its place");
  assert.deepEqual(storageFiles(), [first.path]);
  ctx.close();
});
