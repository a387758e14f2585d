import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDbTimestamp, formatLongDate, parseDbTimestamp, pythonDatetimeString } from "./timestamps.js";

describe("timestamps", () => {
  it("writes UTC YYYY-MM-DD HH:MM:SS", () => {
    assert.equal(formatDbTimestamp(new Date(Date.UTC(2026, 10, 26, 8, 5, 1, 999))), "2026-11-26 08:05:01");
  });

  it("reads both the plain and the microsecond form", () => {
    assert.deepEqual(parseDbTimestamp("2018-02-03 10:11:12.123456"), {
      year: 2018,
      month: 2,
      day: 3,
      hour: 10,
      minute: 11,
      second: 12,
      microsecond: 123456,
    });
    assert.equal(parseDbTimestamp("2018-02-03 10:11:12")?.microsecond, 0);
    assert.equal(parseDbTimestamp("yesterday"), undefined);
  });

  it("mirrors SQLAlchemy + str(datetime) for short fractions and dates without time", () => {
    assert.equal(pythonDatetimeString("2020-01-02 03:04:05.123"), "2020-01-02 03:04:05.000123");
    assert.equal(pythonDatetimeString("2020-01-02"), "2020-01-02 00:00:00");
    assert.equal(pythonDatetimeString("garbage"), "garbage");
    assert.equal(pythonDatetimeString(null), null);
  });

  it("formats %B %d, %Y in English", () => {
    assert.equal(formatLongDate("2026-11-26 08:05:01"), "November 26, 2026");
    assert.equal(formatLongDate("2018-01-02 00:00:00.5"), "January 02, 2018");
    assert.equal(formatLongDate(""), "");
  });
});
