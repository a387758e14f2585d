// Cross-check with the real thing: SQLAlchemy 1.4 with models declared like the original's reads a
// catalog we wrote and writes rows we then read. Skipped where no python3 has SQLAlchemy installed
// (Debian: python3-sqlalchemy).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { postgresBinDir } from "../../test/harness/postgres.js";
import { postgresForFile } from "./backends.testing.js";
import { Catalog } from "./catalog.js";
import { openCatalog } from "./database.js";
import { PostgresDriver } from "./postgres-driver.js";
import { parsePostgresUrl } from "./postgres-url.js";
import { formatInspectJson } from "../cli/inspect-format.js";
import { inspectRecord } from "./inspect.js";
import { makeTempDir } from "./catalog.testing.js";

const PYTHON = ["/usr/bin/python3", "python3"].find(
  (bin) => spawnSync(bin, ["-c", "import sqlalchemy"], { stdio: "ignore" }).status === 0,
);
// PostgreSQL through SQLAlchemy needs psycopg2 (Debian: python3-psycopg2) and a server to start.
const PSYCOPG2 =
  PYTHON !== undefined &&
  postgresBinDir() !== undefined &&
  spawnSync(PYTHON, ["-c", "import psycopg2"], { stdio: "ignore" }).status === 0;

const MODELS = `
import json, sys, warnings
warnings.filterwarnings("ignore")
from sqlalchemy import Column, DateTime, Integer, String, Text, ForeignKey, func, create_engine
from sqlalchemy.schema import UniqueConstraint
from sqlalchemy.orm import backref, relationship, scoped_session, sessionmaker
from sqlalchemy.ext.declarative import declarative_base
Base = declarative_base()
class Collection(Base):
    __tablename__ = "collection"
    id = Column(Integer, primary_key=True)
    name = Column(String(150), unique=True)
    token = Column(String(50))
    created_at = Column(DateTime, default=func.now())
    containers = relationship("Container", lazy="select", cascade="delete,all",
                              backref=backref("collection", lazy="joined"))
class Container(Base):
    __tablename__ = "container"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, default=func.now())
    metrics = Column(Text, nullable=False)
    name = Column(String(250), nullable=False)
    tag = Column(String(250), nullable=False)
    image = Column(String(250), nullable=True)
    url = Column(String(500), nullable=True)
    uri = Column(String(500), nullable=True)
    client = Column(String(50), nullable=False)
    version = Column(String(250), nullable=True)
    collection_id = Column(Integer, ForeignKey("collection.id"), nullable=False)
    __table_args__ = (UniqueConstraint("collection_id", "name", "tag", "client", "version", name="_container_uc"),)
engine = create_engine(sys.argv[1])
Base.metadata.create_all(bind=engine)
session = scoped_session(sessionmaker(autocommit=False, autoflush=False, bind=engine))
`;

const READ = `${MODELS}
for c in session.query(Container).all():
    fields = {k: v for k, v in c.__dict__.items() if not k.startswith("_")}
    fields["collection"] = c.collection.name
    fields["metrics"] = json.loads(fields["metrics"])
    fields["created_at"] = str(fields["created_at"])
    print(json.dumps(fields, indent=4, sort_keys=True))
    print("%s %s" % (c.created_at.strftime("%B %d, %Y"), c.collection.token is not None))
`;

const WRITE = `${MODELS}
col = Collection(name="theirs", token="t")
session.add(col)
session.commit()
session.add(Container(metrics=json.dumps({"k": 1.0}), name="img", tag="1", client="hub", version="", uri="theirs/img:1", collection_id=col.id))
session.commit()
`;

/** Runs a script with the SQLAlchemy database URL as its argument. */
function python(script: string, dbUrl: string): string {
  const result = spawnSync(PYTHON ?? "python3", ["-c", script, dbUrl], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

let dir: string;
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe(
  "interoperability with SQLAlchemy",
  { skip: PYTHON === undefined ? "no python3 with SQLAlchemy" : false },
  () => {
    it("reads our rows exactly as our inspect prints them, and we read its rows", async () => {
      const dbPath = join(dir, "sregistry.db");
      const catalog = openCatalog(dbPath);
      const { row } = await catalog.upsertContainer({
        collection: "library",
        name: "busybox",
        tag: "latest",
        version: "ab12",
        client: "docker",
        image: "/s/library/busybox/latest@ab12.sif",
        url: "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
        metrics: { labels: { a: "é" }, size: 1.5, n: [] },
      });
      catalog.close();

      const out = python(READ, `sqlite:///${dbPath}`);
      const expected = `${formatInspectJson(inspectRecord(row))}\n`;
      assert.ok(out.startsWith(expected), out);
      assert.match(out.slice(expected.length), /^[A-Z][a-z]+ \d\d, \d{4} True\n$/);

      python(WRITE, `sqlite:///${dbPath}`);
      const again = openCatalog(dbPath);
      try {
        const theirs = await again.getContainer({ collection: "theirs", name: "img", tag: "1" });
        assert.equal(theirs?.metrics, '{"k": 1.0}');
        assert.match(theirs?.created_at ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        assert.equal((await again.listContainers()).length, 2);
      } finally {
        again.close();
      }
    });
  },
);

describe(
  "interoperability with SQLAlchemy on PostgreSQL",
  { skip: PSYCOPG2 ? false : "no python3 with SQLAlchemy and psycopg2, or no PostgreSQL" },
  () => {
    const server = postgresForFile();

    it("the original's models read the tables we made and write rows we read", async () => {
      const url = await server().createDatabase("interop");
      const catalog = new Catalog(
        new PostgresDriver(parsePostgresUrl(url, { env: {}, home: "/nonexistent" })),
      );
      try {
        const { row } = await catalog.upsertContainer({
          collection: "library",
          name: "busybox",
          tag: "latest",
          version: "ab12",
          client: "docker",
          image: "/s/library/busybox/latest@ab12.sif",
          url: null,
          metrics: { labels: { a: "é" }, size: 1.5 },
        });
        const sqlalchemyUrl = url.replace(/^postgresql:/, "postgresql+psycopg2:");
        const out = python(READ, sqlalchemyUrl);
        const expected = `${formatInspectJson(inspectRecord(row))}\n`;
        assert.ok(out.startsWith(expected), out);
        assert.match(out.slice(expected.length), /^[A-Z][a-z]+ \d\d, \d{4} True\n$/);

        python(WRITE, sqlalchemyUrl);
        const theirs = await catalog.getContainer({ collection: "theirs", name: "img", tag: "1" });
        assert.equal(theirs?.metrics, '{"k": 1.0}');
        assert.match(theirs?.created_at ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
        assert.equal((await catalog.listContainers()).length, 2);
        assert.equal(
          (await catalog.upsertContainer({ ...theirs!, image: null, version: "v2", metrics: {} })).row.id,
          3,
        );
      } finally {
        await catalog.close();
      }
    });
  },
);
