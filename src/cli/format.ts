import type { FaultSummary } from '../core/engine/run';
import { oneLine, printable } from '../shared/printable';

/** Formats a number for a summary table: integers as-is, others to 4 significant digits. */
export function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(4)).toString();
}

/** Left-aligned two-column table; a value's line breaks show as \n (each row is one line: see oneLine). */
export function table(rows: [string, string][]): string {
  const w = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${oneLine(b)}`).join('\n');
}

/**
 * A progress bar on one line, redrawn with \r (only on a TTY). It fits in `columns` (the
 * terminal's width; 0 or none: unknown, the full bar), one column short of it: a line as wide as
 * the terminal, or wider, wraps, and a \r then returns to the start of its last row only, so on a
 * narrow terminal each redraw left rows of bars behind. Narrower terminals get the counts dropped,
 * then the bar: `[######----]  40%`, then `40%`.
 */
export function progressBar(done: number, total: number, columns = 0): string {
  const f = total ? Math.min(1, done / total) : 1;
  const pct = `${(f * 100).toFixed(0).padStart(3)}%`;
  const room = columns > 0 ? columns - 1 : Number.POSITIVE_INFINITY;
  for (const tail of [` ${pct} ${done}/${total} events`, ` ${pct}`]) {
    const width = Math.min(30, room - 2 - tail.length);
    if (width >= 10) {
      const full = Math.round(f * width);
      return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]${tail}`;
    }
  }
  return pct.trimStart().length <= room ? pct.trimStart() : '';
}

/** "fault × count (first at event n): example", with "in N events" when some event raised more than one. */
export function faultLines(faults: Record<string, FaultSummary | undefined>): string[] {
  return Object.entries(faults)
    .filter((e): e is [string, FaultSummary] => e[1] !== undefined)
    .map(([k, s]) => `  ${k} × ${s.count}${s.events !== s.count ? ` in ${s.events} event${s.events === 1 ? '' : 's'}` : ''} (first at event ${s.firstEvent}, ${oneLine(s.firstId)}): ${oneLine(s.example)}`);
}

/** A line on stdout, printable. */
export function say(s: string): void {
  console.log(printable(s));
}

/** A line on stderr, printable. */
export function shout(s: string): void {
  console.error(printable(s));
}

// What JSON.stringify leaves as it is but a terminal acts on: DEL, the C1 controls, bidi overrides.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A JSON value on stdout, one line or pretty: JSON.stringify escapes the C0 controls itself, and
 * the rest that a terminal would act on are written as \uXXXX — valid JSON for the same value
 * (printable()'s \x7f is not JSON).
 */
export function sayJson(value: unknown, space?: number): void {
  console.log(JSON.stringify(value, null, space).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
