/**
 * The `created_at` column: how we write it and how the original's values are read back.
 *
 * We write UTC `YYYY-MM-DD HH:MM:SS` (what SQLite's `CURRENT_TIMESTAMP` gives the original). Rows the
 * original wrote with a Python datetime carry a fraction (`.ffffff`); SQLAlchemy reads the fraction
 * digits as an integer number of microseconds (`.123` → 123 µs), and we mirror that so `inspect`
 * prints the same text Python's `str(datetime)` would.
 *
 * @example
 * ```ts
 * formatDbTimestamp(new Date(Date.UTC(2026, 10, 26, 8, 5, 1))); // "2026-11-26 08:05:01"
 * pythonDatetimeString("2020-01-02 03:04:05.5");                 // "2020-01-02 03:04:05.000005"
 * formatLongDate("2026-11-26 08:05:01");                         // "November 26, 2026"
 * ```
 */
import { MONTHS } from "../util/calendar.js";

export interface ParsedTimestamp {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

// SQLAlchemy's SQLite DATETIME reader accepts the date alone, or date + time + optional fraction.
const TIMESTAMP_RE = /^(\d+)-(\d+)-(\d+)(?:[ T](\d+):(\d+):(\d+)(?:\.(\d+))?)?/;

const pad = (value: number, width: number): string => String(value).padStart(width, "0");

/** UTC `YYYY-MM-DD HH:MM:SS` for `date` (default: now). */
export function formatDbTimestamp(date: Date = new Date()): string {
  const day = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
  const time = `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  return `${day} ${time}`;
}

/** Parses a stored value; undefined when it is not a timestamp at all. */
export function parseDbTimestamp(text: string | null | undefined): ParsedTimestamp | undefined {
  const match = TIMESTAMP_RE.exec(text ?? "");
  if (!match) return undefined;
  const num = (index: number): number => Number(match[index] ?? "0");
  return {
    year: num(1),
    month: num(2),
    day: num(3),
    hour: num(4),
    minute: num(5),
    second: num(6),
    microsecond: num(7),
  };
}

/** Python's `str(datetime)`: microseconds appear only when non-zero. Unparsable text is returned as is. */
export function pythonDatetimeString(text: string | null): string | null {
  const ts = parseDbTimestamp(text);
  if (!ts) return text;
  const base =
    `${pad(ts.year, 4)}-${pad(ts.month, 2)}-${pad(ts.day, 2)} ` +
    `${pad(ts.hour, 2)}:${pad(ts.minute, 2)}:${pad(ts.second, 2)}`;
  return ts.microsecond === 0 ? base : `${base}.${pad(ts.microsecond, 6)}`;
}

/** strftime `%B %d, %Y` in English (C locale): `November 26, 2026`; "" when unparsable. */
export function formatLongDate(text: string | null): string {
  const ts = parseDbTimestamp(text);
  if (!ts) return "";
  const month = MONTHS[ts.month - 1] ?? String(ts.month);
  return `${month} ${pad(ts.day, 2)}, ${pad(ts.year, 4)}`;
}
