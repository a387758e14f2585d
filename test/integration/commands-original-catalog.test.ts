/**
 * A catalog written by the original tool's schema (made with the sqlite3 shell, not our code):
 * md5-era versions, `.simg` files in the old flat layout, a remote record. The CLI lists, reads,
 * moves, renames and removes them, and leaves the original schema untouched.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, runCli, type CliResult, runCliInProcess } from "../harness/cli.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";
import { ORIGINAL_CONTAINER_SQL, ORIGINAL_DDL_SCRIPT } from "../../src/catalog/catalog.testing.js";
import { forEachBackend } from "../../src/catalog/backends.testing.js";
import { databaseEnv, sqlOutside } from "../harness/catalog-backend.js";

const MD5_A = "0f343b0931126a20f133d67c2b018a3b";
const MD5_B = "e2fc714c4727ee9395f324cd2e7f331f";
const URL = "https://nvcr.io/v2/nvidia/caffe2/manifests/17.10";

forEachBackend((backend) => {
  let base: TmpDir;
  let legacy: string;
  let storage: string;
  let env: Record<string, string>;
  const cli = (...args: string[]): Promise<CliResult> => runCliInProcess(["--quiet", ...args], env);
  /** Through the real executable. */
  const cliProcess = (...args: string[]): Promise<CliResult> =>
    runCli(["--quiet", ...args], { baseDir: base.path, env });
  const sql = (text: string) => sqlOutside(env, text);
  const simg = (md5: string) => join(legacy, `vsoch-hello-world:latest@${md5}.simg`);

  before(async () => {
    base = await tmpDir("sregistry-cli-original-");
    const singularity = join(base.path, ".singularity");
    storage = join(singularity, "shub");
    legacy = join(base.path, "legacy");
    env = { ...isolatedEnv(base.path), ...(await databaseEnv(backend)) };
    mkdirSync(singularity);
    mkdirSync(legacy);
    writeFileSync(simg(MD5_A), "version a");
    writeFileSync(simg(MD5_B), "version b");
    // SQLite: the original's own DDL (SQLAlchemy's); PostgreSQL: the same tables, made by a first run.
    if (backend.name === "sqlite") sql(ORIGINAL_DDL_SCRIPT);
    else assert.equal((await cli("images")).code, 0);
    sql(`
INSERT INTO collection VALUES (1, 'vsoch', '2b7c9c1e-6a53-4c2e-9a53-6c1f0b2e9d11', '2018-01-28 21:10:03');
INSERT INTO collection VALUES (2, 'nvidia', '7d1e3f38-3c0f-4d1b-8d6e-5a9b0c3e2f10', '2018-04-21 09:00:00');
INSERT INTO container VALUES (1, '2018-01-28 21:10:03', '{"collection": "vsoch", "image": "hello-world", "MAINTAINER": "vanessasaur", "type": "container"}',
  'hello-world', 'latest', '${simg(MD5_B)}', 'vsoch/hello-world', 'vsoch/hello-world:latest@${MD5_B}', 'hub', '${MD5_B}', 1);
INSERT INTO container VALUES (2, '2018-02-03 10:11:12.123456', '{"collection": "vsoch"}',
  'hello-world', 'latest', '${simg(MD5_A)}', 'vsoch/hello-world', 'vsoch/hello-world:latest@${MD5_A}', 'hub', '${MD5_A}', 1);
INSERT INTO container VALUES (3, '2018-04-21 09:00:01', '{"config": {"config": {"Labels": {"com.nvidia.build.id": "42"}}}}',
  'caffe2', '17.10', NULL, '${URL}', 'nvidia/caffe2:17.10', 'nvidia', '', 2);
`);
    if (backend.name === "postgresql") {
      // Rows inserted with explicit ids leave the sequences behind, as after a data import.
      sql("SELECT setval('collection_id_seq', 2); SELECT setval('container_id_seq', 3);");
    }
  });
  after(() => base.cleanup());

  test("images, get and labels read the original's rows", async () => {
    const images = await cliProcess("images");
    assert.equal(images.code, 0, images.stderr);
    assert.equal(
      images.stdout,
      "Containers:   [date]   [client]\t[uri]\n" +
        `1  January 28, 2018\t   [hub]\tvsoch/hello-world:latest@${MD5_B}\n` +
        `2  February 03, 2018\t   [hub]\tvsoch/hello-world:latest@${MD5_A}\n` +
        "3  April 21, 2018\t   [nvidia]\tnvidia/caffe2:17.10\n",
    );
    assert.equal(
      (await cli("get", "vsoch/hello-world.simg")).stdout,
      `${simg(MD5_A)}\n`,
      "the newest local file (February 03) first",
    );
    assert.equal((await cli("get", "nvidia/caffe2:17.10")).stdout, `${URL}\n`);
    const labels = await cli("labels");
    assert.equal(
      labels.stdout,
      `vsoch/hello-world:latest@${MD5_B}\n  MAINTAINER:vanessasaur\nnvidia/caffe2:17.10\n  com.nvidia.build.id:42\n`,
    );
    const search = await cli("search", "vanessa");
    assert.match(search.stdout, new RegExp(`\\tvsoch/hello-world:latest@${MD5_B}\\n$`));
  });

  test("mv, rename and rm work on md5 versions, .simg files and a remote record", async () => {
    const out = join(base.path, "out");
    mkdirSync(out);
    const moved = await cli("mv", `vsoch/hello-world:latest@${MD5_B}`, out);
    const movedTo = join(out, `vsoch-hello-world:latest@${MD5_B}.simg`);
    assert.deepEqual(moved, {
      code: 0,
      stdout: `[move] vsoch-hello-world:latest@${MD5_B}.simg => ${movedTo}\n`,
      stderr: "",
    });
    assert.equal(readFileSync(movedTo, "utf8"), "version b");

    const renamed = await cliProcess("rename", `vsoch/hello-world:latest@${MD5_A}`, "mine/hello:old");
    const renamedTo = join(storage, "mine", "hello", `old@${MD5_A}.sif`);
    assert.equal(renamed.stdout, `[rename] vsoch-hello-world:latest@${MD5_A}.simg => ${renamedTo}\n`);
    assert.equal(readFileSync(renamedTo, "utf8"), "version a");
    assert.equal(existsSync(simg(MD5_A)), false);

    assert.deepEqual(await cli("rm", "nvidia/caffe2:17.10"), {
      code: 0,
      stdout: `${URL}\n[rm] nvidia/caffe2:17.10\n`,
      stderr: "",
    });
    assert.deepEqual(await cli("rm", "vsoch/hello-world"), { code: 0, stdout: `${movedTo}\n`, stderr: "" });
    assert.equal(existsSync(movedTo), false);

    assert.equal(sql("SELECT name FROM collection ORDER BY id;"), "mine\n", "emptied collections removed");
    assert.equal(
      sql("SELECT id, uri, image, version, client FROM container;"),
      `2|mine/hello:old@${MD5_A}|${renamedTo}|${MD5_A}|hub\n`,
    );
    if (backend.name === "sqlite") {
      // SQLite only: the table's DDL text is the original's, untouched by migrations.
      assert.equal(
        sql("SELECT sql FROM sqlite_master WHERE name = 'container';").trimEnd(),
        ORIGINAL_CONTAINER_SQL,
      );
    }
  });
});
