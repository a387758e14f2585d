/**
 * English month and weekday names, for the date formats the original tools print
 * (`November 26, 2026` in `images`, `Thursday_26_November_2026_…` in build labels).
 *
 * @example
 * ```ts
 * MONTHS[new Date().getUTCMonth()]; // "November"
 * ```
 */
export const MONTHS: readonly string[] = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

export const WEEKDAYS: readonly string[] = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];
