import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context } from "./context.js";
import { tinySif } from "../image/sif/tiny-sif.testing.js";
import { tempCatalog, type TempCatalog } from "./temp-catalog.testing.js";
import { mv } from "./mv.js";
import { failWrites, forEachBackend } from "../catalog/backends.testing.js";

forEachBackend((backend) => {
  let dir: string;
  let storage: string;
  let ctx: Context;
  let temp: TempCatalog;

  beforeEach(async () => {
    temp = tempCatalog("sregistry-mv-", await backend.databaseSetting());
    ({ dir, storage, ctx } = temp);
  });
  afterEach(() => temp.dispose());

  const added = (name: string, content: string) => temp.added(name, content);

  const imageOf = async (query: string) =>
    (await ctx.catalog().getContainer({ collection: "col", name: "img", tag: query }))?.image ?? undefined;

  test("mv into a folder keeps the file name, updates the row and removes empty storage folders", async () => {
    const one = await added("col/img:1", "one");
    const target = join(dir, "out");
    mkdirSync(target);
    const moved = await mv(ctx, "col/img:1", target);
    const expected = join(target, `1@${one.version}.sif`);
    assert.deepEqual({ from: moved.from, to: moved.to }, { from: one.path, to: expected });
    assert.deepEqual(readFileSync(expected), tinySif("one"));
    assert.equal(existsSync(one.path), false);
    assert.equal(await imageOf("1"), expected);
    assert.equal(moved.row.image, expected);
    assert.deepEqual(readdirSync(storage), []);
  });

  test("mv to a file path, relative to the working folder", async () => {
    await added("col/img:2", "two");
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const moved = await mv(ctx, "col/img:2", "renamed.sif");
      assert.equal(moved.to, join(dir, "renamed.sif"));
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(readFileSync(join(dir, "renamed.sif")), tinySif("two"));
  });

  test("mv refuses: unknown image, remote record, missing folder, existing file — nothing changes", async () => {
    const one = await added("col/img:1", "one");
    await assert.rejects(mv(ctx, "col/nope", dir), { message: "col/nope not found", code: "NOT_FOUND" });
    await assert.rejects(mv(ctx, "col/img:1", join(dir, "no", "such", "x.sif")), {
      message: `Destination directory ${join(dir, "no", "such")} does not exist`,
    });
    writeFileSync(join(dir, "taken.sif"), "other");
    await assert.rejects(mv(ctx, "col/img:1", join(dir, "taken.sif")), /already exists; not replacing it/);
    assert.equal(readFileSync(join(dir, "taken.sif"), "utf8"), "other");
    await ctx.catalog().upsertContainer({
      collection: "col",
      name: "img",
      tag: "remote",
      version: "",
      client: "docker",
      image: null,
      url: "https://x/v2/col/img/manifests/remote",
      metrics: {},
    });
    await assert.rejects(mv(ctx, "col/img:remote", dir), /is a remote record/);
    assert.equal(await imageOf("1"), one.path);
    assert.ok(existsSync(one.path));
  });

  test("a failing catalog write moves the file back", async () => {
    const one = await added("col/img:1", "one");
    await failWrites(ctx.catalog(), "UPDATE", "no update");
    await assert.rejects(mv(ctx, "col/img:1", dir), /no update/);
    assert.deepEqual(readFileSync(one.path), tinySif("one"));
    assert.equal(existsSync(join(dir, `1@${one.version}.sif`)), false);
    assert.equal(await imageOf("1"), one.path);
  });

  const shm = "/dev/shm";
  const otherFs = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;

  test(
    "mv across filesystems copies, then removes the original",
    { skip: !otherFs && "no second filesystem" },
    async () => {
      const one = await added("col/img:1", "far away");
      const target = mkdtempSync(join(shm, "sregistry-mv-"));
      try {
        const moved = await mv(ctx, "col/img:1", target);
        assert.deepEqual(readFileSync(moved.to), tinySif("far away"));
        assert.equal(existsSync(one.path), false);
        assert.deepEqual(readdirSync(target), [`1@${one.version}.sif`], "no temp file left");
        assert.equal(await imageOf("1"), moved.to);
      } finally {
        rmSync(target, { recursive: true, force: true });
      }
    },
  );
});
