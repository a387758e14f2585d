/**
 * Shared fixtures for the catalog tests: temp folders and the original tool's DDL, run through the
 * `sqlite3` command-line shell so the database is made by something other than our code.
 *
 * @example
 * ```ts
 * const dir = await makeTempDir();
 * sqliteCli(join(dir, "sregistry.db"), ORIGINAL_DDL_SCRIPT);
 * ```
 */
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function makeTempDir(prefix = "sregistry-catalog-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs SQL through the sqlite3 CLI and returns its stdout. */
export function sqliteCli(dbPath: string, sql: string, args: string[] = []): string {
  return execFileSync("sqlite3", [...args, dbPath], { input: sql, encoding: "utf8" });
}

// Verbatim `sqlite_master.sql` of a database created by sregistry-cli 0.2.39 (SQLAlchemy 1.4).
export const ORIGINAL_COLLECTION_SQL =
  "CREATE TABLE collection (\n\tid INTEGER NOT NULL, \n\tname VARCHAR(150), \n\ttoken VARCHAR(50), \n" +
  "\tcreated_at DATETIME, \n\tPRIMARY KEY (id), \n\tUNIQUE (name)\n)";

export const ORIGINAL_CONTAINER_SQL =
  "CREATE TABLE container (\n\tid INTEGER NOT NULL, \n\tcreated_at DATETIME, \n\tmetrics TEXT NOT NULL, \n" +
  "\tname VARCHAR(250) NOT NULL, \n\ttag VARCHAR(250) NOT NULL, \n\timage VARCHAR(250), \n" +
  "\turl VARCHAR(500), \n\turi VARCHAR(500), \n\tclient VARCHAR(50) NOT NULL, \n\tversion VARCHAR(250), \n" +
  "\tcollection_id INTEGER NOT NULL, \n\tPRIMARY KEY (id), \n" +
  "\tCONSTRAINT _container_uc UNIQUE (collection_id, name, tag, client, version), \n" +
  "\tFOREIGN KEY(collection_id) REFERENCES collection (id)\n)";

/** What SQLAlchemy sends: a newline before CREATE and two after the closing parenthesis. */
export const ORIGINAL_DDL_SCRIPT = `\n${ORIGINAL_COLLECTION_SQL}\n\n;\n${ORIGINAL_CONTAINER_SQL}\n\n;\n`;

const md5a = "0f343b0931126a20f133d67c2b018a3b";
const md5b = "e2fc714c4727ee9395f324cd2e7f331f";

/** Rows as the original writes them: md5-era versions, a remote record, microsecond timestamps. */
export const ORIGINAL_ROWS_SCRIPT = `
INSERT INTO collection VALUES (1, 'vsoch', '2b7c9c1e-6a53-4c2e-9a53-6c1f0b2e9d11', '2018-01-28 21:10:03');
INSERT INTO collection VALUES (2, 'nvidia', '7d1e3f38-3c0f-4d1b-8d6e-5a9b0c3e2f10', '2018-04-21 09:00:00');
INSERT INTO container VALUES (1, '2018-01-28 21:10:03', '{"collection": "vsoch", "image": "hello-world", "MAINTAINER": "vanessasaur", "type": "container", "uri": "vsoch/hello-world:latest@${md5b}", "version": "${md5b}"}',
  'hello-world', 'latest', '/home/u/.singularity/shub/vsoch-hello-world:latest@${md5b}.simg', 'vsoch/hello-world', 'vsoch/hello-world:latest@${md5b}', 'hub', '${md5b}', 1);
INSERT INTO container VALUES (2, '2018-02-03 10:11:12.123456', '{"collection": "vsoch", "image": "hello-world"}',
  'hello-world', 'latest', '/home/u/.singularity/shub/vsoch-hello-world:latest@${md5a}.simg', 'vsoch/hello-world', 'vsoch/hello-world:latest@${md5a}', 'hub', '${md5a}', 1);
INSERT INTO container VALUES (3, '2018-04-21 09:00:01', '{"schemaVersion": 2, "config": {"config": {"Labels": {"com.nvidia.build.id": "42"}}}}',
  'caffe2', '17.10', NULL, 'https://nvcr.io/v2/nvidia/caffe2/manifests/17.10', 'nvidia/caffe2:17.10', 'nvidia', '', 2);
`;

export const MD5_A = md5a;
export const MD5_B = md5b;
