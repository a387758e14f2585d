import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatImagesTable, type ImagesRow } from "./images-format.js";

const row = (over: Partial<ImagesRow>): ImagesRow => ({
  created_at: "2026-11-26 08:05:01",
  client: "docker",
  collection: "library",
  name: "busybox",
  tag: "latest",
  version: "77c5",
  ...over,
});

describe("formatImagesTable", () => {
  it("prints the original's header and rows", () => {
    const rows = [
      row({}),
      row({ client: "nvidia", collection: "nvidia", name: "caffe2", tag: "17.10", version: "" }),
    ];
    assert.equal(
      formatImagesTable(rows, { color: false }),
      "Containers:   [date]   [client]\t[uri]\n" +
        "1  November 26, 2026\t   [docker]\tlibrary/busybox:latest@77c5\n" +
        "2  November 26, 2026\t   [nvidia]\tnvidia/caffe2:17.10\n",
    );
  });

  it("zero-pads the day, pads row numbers to width 2 and ignores a null version", () => {
    const rows = Array.from({ length: 10 }, (_, i) =>
      row({ created_at: "2018-01-02 03:04:05.123456", name: `n${i}`, version: i === 9 ? null : "" }),
    );
    const lines = formatImagesTable(rows, { color: false }).split("\n");
    assert.equal(lines[1], "1  January 02, 2018\t   [docker]\tlibrary/n0:latest");
    assert.equal(lines[10], "10 January 02, 2018\t   [docker]\tlibrary/n9:latest");
    assert.equal(lines[11], "");
    assert.equal(lines.length, 12);
  });

  it("colours only the header prefix (bright red) on a terminal, like the original", () => {
    assert.equal(
      formatImagesTable([row({})], { color: true }),
      "\x1b[91mContainers: \x1b[0m  [date]   [client]\t[uri]\n" +
        "1  November 26, 2026\t   [docker]\tlibrary/busybox:latest@77c5\n",
    );
  });

  it("prints nothing at all for no rows", () => {
    assert.equal(formatImagesTable([], { color: true }), "");
  });
});
