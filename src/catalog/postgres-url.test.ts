import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { redact } from "../util/redact.js";
import { Catalog } from "./catalog.js";
import { PostgresDriver, numbered } from "./postgres-driver.js";
import { isPostgresUrl, parsePostgresUrl, pgpassLookup, redactDatabaseUrl } from "./postgres-url.js";

const home = mkdtempSync(join(tmpdir(), "sregistry-pgurl-"));
after(() => rmSync(home, { recursive: true, force: true }));

describe("PostgreSQL URLs", () => {
  it("recognises both schemes, and nothing else", () => {
    assert.equal(isPostgresUrl("postgresql://h/db"), true);
    assert.equal(isPostgresUrl("POSTGRES://h/db"), true);
    assert.equal(isPostgresUrl("/home/u/.singularity"), false);
    assert.equal(isPostgresUrl("sqlite:///x.db"), false);
  });

  it("takes user, host, port and database from the URL, with libpq's defaults", () => {
    const full = parsePostgresUrl("postgresql://ada@db.example.org:6543/cat", { env: {}, home });
    assert.deepEqual(
      [full.user, full.host, full.port, full.database, full.ssl],
      ["ada", "db.example.org", 6543, "cat", false],
    );
    const bare = parsePostgresUrl("postgres://h", { env: { PGUSER: "bob" }, home });
    assert.deepEqual([bare.user, bare.port, bare.database], ["bob", 5432, "bob"]);
  });

  it("never shows the password: display, redactDatabaseUrl, and the redactor", () => {
    const target = parsePostgresUrl("postgresql://ada:Sup3r%3Asecret@h:5432/cat?sslmode=require", {
      env: {},
      home,
    });
    assert.equal(target.password, "Sup3r:secret");
    assert.equal(target.display, "postgresql://ada@h:5432/cat?sslmode=require");
    assert.equal(redactDatabaseUrl("postgresql://ada:Sup3r%3Asecret@h/cat"), "postgresql://ada:***@h/cat");
    assert.equal(redact("failed: Sup3r:secret"), "failed: ***");
  });

  it("password: the URL's, else PGPASSWORD, else ~/.pgpass only when private", () => {
    const pgpass = join(home, ".pgpass");
    writeFileSync(pgpass, "# comment\nother:5432:*:ada:no\nh:5432:cat:ada:from\\:pgpass\n*:*:*:*:fallback\n");
    chmodSync(pgpass, 0o600);
    const url = "postgresql://ada@h:5432/cat";
    assert.equal(parsePostgresUrl(url, { env: {}, home }).password, "from:pgpass");
    assert.equal(parsePostgresUrl(url, { env: { PGPASSWORD: "env" }, home }).password, "env");
    assert.equal(
      parsePostgresUrl("postgresql://ada:url@h/cat", { env: { PGPASSWORD: "env" }, home }).password,
      "url",
    );
    assert.equal(pgpassLookup(pgpass, { host: "x", port: 1, database: "d", user: "u" }), "fallback");
    chmodSync(pgpass, 0o644);
    assert.equal(
      parsePostgresUrl(url, { env: {}, home }).password,
      undefined,
      "a readable .pgpass is ignored",
    );
  });

  it("sslmode as libpq means it", () => {
    const tls = (mode: string) =>
      parsePostgresUrl(`postgresql://u@h/d?sslmode=${mode}`, { env: {}, home }).ssl;
    assert.equal(tls("disable"), false);
    assert.equal(tls("prefer"), false);
    assert.deepEqual(tls("require"), { rejectUnauthorized: false });
    const verifyCa = tls("verify-ca");
    assert.ok(
      verifyCa &&
        verifyCa.rejectUnauthorized === true &&
        verifyCa.checkServerIdentity?.("h", {} as never) === undefined,
    );
    assert.deepEqual(tls("verify-full"), { rejectUnauthorized: true });
    const ca = join(home, "root.crt");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\n");
    const withCa = parsePostgresUrl(`postgresql://u@h/d?sslmode=require&sslrootcert=${ca}`, {
      env: {},
      home,
    }).ssl;
    assert.ok(
      withCa && withCa.rejectUnauthorized === true && withCa.ca !== undefined,
      "require + root CA = verify-ca",
    );
    assert.throws(() => tls("always"), /sslmode "always" is not one of/);
  });

  it("numbers the placeholders", () => {
    assert.equal(numbered("SELECT ? WHERE a = ? AND b = ?"), "SELECT $1 WHERE a = $2 AND b = $3");
  });
});

describe("a PostgreSQL server that cannot be reached", () => {
  it("is one line naming host, port, database and the reason, without the password", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 1));
      });
    });
    const target = parsePostgresUrl(`postgresql://ada:pw-never-shown@127.0.0.1:${port}/cat`, {
      env: {},
      home,
    });
    const catalog = new Catalog(new PostgresDriver(target));
    try {
      await assert.rejects(catalog.listContainers(), (err: Error & { code?: string }) => {
        assert.equal(err.code, "DATABASE");
        assert.match(
          err.message,
          new RegExp(
            `^Cannot use the PostgreSQL catalog at 127\\.0\\.0\\.1:${port}, database cat, user ada: .*ECONNREFUSED`,
          ),
        );
        assert.doesNotMatch(err.message, /pw-never-shown|\n/);
        return true;
      });
    } finally {
      await catalog.close();
    }
  });
});
