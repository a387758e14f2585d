import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerRow } from "../catalog/catalog.js";
import { HEADER_COLOR, COLOR_OFF } from "./images-format.js";
import { imagesTable, rowForJson } from "./rows.js";

function row(overrides: Partial<ContainerRow> = {}): ContainerRow {
  return {
    id: 1,
    created_at: "2026-11-26 08:05:01",
    metrics: '{"digest": "sha256:abc", "size": 1.0}',
    name: "busybox",
    tag: "latest",
    image: "/s/library/busybox/latest@v.sif",
    url: null,
    uri: "library/busybox:latest@v",
    client: "docker",
    version: "v",
    collection_id: 1,
    collection: "library",
    ...overrides,
  };
}

describe("imagesTable", () => {
  it("keeps its own header colour and escapes control characters in every field", () => {
    const table = imagesTable([row({ name: "busy\x1b[2Jbox", tag: "a\nb", client: "dock\u009ber" })], {
      color: true,
    }).text;
    const [header, line, extra] = table.split("\n");
    assert.equal(header, `${HEADER_COLOR}Containers: ${COLOR_OFF}  [date]   [client]\t[uri]`);
    assert.equal(line, "1  November 26, 2026\t   [dock\\u009ber]\tlibrary/busy\\u001b[2Jbox:a\\nb@v");
    assert.equal(extra, undefined, "a newline in a tag cannot add a row");
  });

  it("numbers rows and formats each row's own date, escaping only what needs it", () => {
    const rows = [
      row(),
      row({ created_at: "2020-01-02 03:04:05.5", name: "plain", version: null }),
      row({ name: "bidi\u202eeman", version: "v" }),
      row({ created_at: "not a date" }),
    ];
    const lines = imagesTable(rows, { color: false }).text.split("\n");
    assert.deepEqual(lines.slice(1), [
      "1  November 26, 2026\t   [docker]\tlibrary/busybox:latest@v",
      "2  January 02, 2020\t   [docker]\tlibrary/plain:latest",
      "3  November 26, 2026\t   [docker]\tlibrary/bidi\\u202eeman:latest@v",
      "4  \t   [docker]\tlibrary/busybox:latest@v",
    ]);
  });

  it("has no colour when asked for none", () => {
    assert.ok(imagesTable([row()], { color: false }).text.startsWith("Containers:   [date]"));
  });
});

describe("rowForJson", () => {
  it("gives metrics as the parsed object", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(rowForJson(row()))).metrics, {
      digest: "sha256:abc",
      size: 1,
    });
  });

  it("keeps metrics that are not JSON as their text", () => {
    assert.equal(rowForJson(row({ metrics: "not json" })).metrics, "not json");
  });
});
