/**
 * Slice timestamps as instants. Date.parse reads a zone-less "2025-07-21T09:12:03" in the
 * machine's local time zone (a replay would then depend on TZ) and accepts free text and
 * impossible dates (Feb 30 rolls over to March), so the core parses them here instead.
 */

/** An example of the accepted form, for error messages. */
export const INSTANT_EXAMPLE = '"2025-07-21T09:12:03Z" or "2025-07-21T18:12:03+09:00"';

const MS_PER_DAY = 86_400_000;

/** Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** The value of `n` ASCII digits of s at i, or -1 if any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    // NaN past the end of s fails this test too.
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Milliseconds since the epoch of an RFC 3339 instant `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed
 * by `Z` or `±HH:MM`. As RFC 3339 allows, `T` and `Z` may be lower case and the date and time may be
 * separated by a space (`2019-11-24 00:03:13.442536+00:00`, as Python and databases print them);
 * NaN for anything else (no zone, free text, month 13, Feb 30, 24:00, leap
 * second). Fraction digits past the millisecond are truncated: V8's Date.parse does the same for
 * up to 9 fraction digits, so those stamps give the same number as before; past 9 digits V8 reads
 * leading zeros wrongly (".0001000000" gives 1 ms), which is not copied. No allocation: it runs per
 * replayed event.
 */
export function parseInstant(s: string): number {
  const n = s.length;
  const sep = s.charCodeAt(10);
  if (n < 17 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 116 && sep !== 32) || s.charCodeAt(13) !== 58) return Number.NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59) return Number.NaN;
  let i = 16;
  let sec = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58) {
    sec = digits(s, i + 1, 2);
    if (sec < 0 || sec > 59) return Number.NaN;
    i += 3;
    if (s.charCodeAt(i) === 46) {
      i++;
      const start = i;
      while (i < n) {
        const c = s.charCodeAt(i) - 48;
        if (!(c >= 0 && c <= 9)) break;
        if (i - start < 3) ms += c * (i - start === 0 ? 100 : i - start === 1 ? 10 : 1);
        i++;
      }
      if (i === start) return Number.NaN;
    }
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return Number.NaN;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return Number.NaN;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return Number.NaN;
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
  } else {
    return Number.NaN;
  }
  return daysFromCivil(y, mo, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - offsetMin * 60_000;
}

/** A hint for a timestamp parseInstant refused: what to change, with an example. */
export function instantHint(value: unknown): string {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) {
    return `The timestamp has no timezone, so it would be read in the local time zone of whichever machine replays it: add "Z" (UTC) or the offset ±HH:MM, e.g. ${INSTANT_EXAMPLE}.`;
  }
  // RFC 3339 allows :60 for a leap second; epoch milliseconds (and so the replay's clock) have none.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:60(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value)) {
    return 'A leap second (:60) is not supported: the replay counts time in epoch milliseconds, which have none; write it as :59.999 of that minute, or as the next second.';
  }
  return `Write an RFC 3339 timestamp with a timezone (Z or ±HH:MM) and a real calendar date, e.g. ${INSTANT_EXAMPLE}.`;
}
