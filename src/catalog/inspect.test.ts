import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerRow } from "./catalog.js";
import { formatInspectJson } from "../cli/inspect-format.js";
import { inspectRecord } from "./inspect.js";

const row: ContainerRow = {
  id: 3,
  created_at: "2018-02-03 10:11:12.123456",
  metrics: '{"collection": "vsoch", "labels": {"a": "\\u00e9"}, "n": 1.0, "list": [], "o": {}}',
  name: "hello-world",
  tag: "latest",
  image: null,
  url: "https://nvcr.io/v2/x",
  uri: "vsoch/hello-world:latest",
  client: "nvidia",
  version: "",
  collection_id: 1,
  collection: "vsoch",
};

describe("inspect", () => {
  it("prints what the original's json.dumps(fields, indent=4, sort_keys=True) prints", () => {
    const expected =
      '{\n    "client": "nvidia",\n    "collection": "vsoch",\n    "collection_id": 1,\n' +
      '    "created_at": "2018-02-03 10:11:12.123456",\n    "id": 3,\n    "image": null,\n    "metrics": {\n' +
      '        "collection": "vsoch",\n        "labels": {\n            "a": "\\u00e9"\n        },\n' +
      '        "list": [],\n        "n": 1.0,\n        "o": {}\n    },\n    "name": "hello-world",\n' +
      '    "tag": "latest",\n    "uri": "vsoch/hello-world:latest",\n    "url": "https://nvcr.io/v2/x",\n' +
      '    "version": ""\n}';
    assert.equal(formatInspectJson(inspectRecord(row)), expected);
  });

  it("prints created_at without a fraction when there is none, as Python's str(datetime)", () => {
    const record = inspectRecord({ ...row, created_at: "2026-11-26 08:05:01", metrics: "{}" });
    assert.equal(record.created_at, "2026-11-26 08:05:01");
    assert.deepEqual(record.metrics, {});
    assert.equal(
      inspectRecord({ ...row, created_at: "2026-11-26 08:05:01.000000" }).created_at,
      "2026-11-26 08:05:01",
    );
  });

  it("keeps metrics that are not JSON as the raw string", () => {
    const record = inspectRecord({ ...row, metrics: "{broken" });
    assert.equal(record.metrics, "{broken");
    assert.match(formatInspectJson(record), /\n {4}"metrics": "\{broken",\n/);
  });

  it("has exactly the original's keys", () => {
    assert.deepEqual(Object.keys(inspectRecord(row)).sort(), [
      "client",
      "collection",
      "collection_id",
      "created_at",
      "id",
      "image",
      "metrics",
      "name",
      "tag",
      "uri",
      "url",
      "version",
    ]);
  });
});
