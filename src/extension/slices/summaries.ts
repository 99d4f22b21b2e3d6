import { createReadStream } from 'node:fs';
import type { FeatureMap, FeatureType, UserRecord } from '../../core/slice/types';
import type { Cancellation } from './sliceStore';
import { linesOf } from '../lines';
import { sessionOfLine } from '../../core/slice/sessionField';
import { EventCursor, lineTooLong } from '../../core/slice/cursor';
import { RECORDS_PER_STEP, runSteps, type Steps } from '../../core/steps';

/** [from, to] (1-based, inclusive) ranges that split `from..to` into at most `pageSize` children. */
export function pageRanges(from: number, to: number, pageSize: number): [number, number][] {
  const n = to - from + 1;
  if (n <= 0) return [];
  let span = 1;
  // Children of a range are single events, or ranges of pageSize^j events: a tree of pages.
  while (Math.ceil(n / span) > pageSize) span *= pageSize;
  const out: [number, number][] = [];
  for (let a = from; a <= to; a += span) out.push([a, Math.min(to, a + span - 1)]);
  return out;
}

/** Records read by place: an array, or a table that parses each on demand (users). */
export interface RecordList<T> {
  readonly length: number;
  at(i: number): T | undefined;
}

/** The users of a slice as a RecordList that keeps none of them parsed (UserTable.peek). */
export function usersOf(table: { readonly count: number; peek(i: number): UserRecord }): RecordList<UserRecord> {
  return { length: table.count, at: (i) => table.peek(i) };
}

/** One line per feature: numbers as min / mean / max, strings as their most common values, booleans as share true. */
export function featureSummary(records: RecordList<{ features?: FeatureMap }>, schema: Record<string, FeatureType> = {}): { name: string; text: string }[] {
  return runSteps(featureSummarySteps(records, schema));
}

interface FeatureTally {
  n: number;
  missing: number;
  min: number;
  max: number;
  sum: number;
  trues: number;
  bools: number;
  counts: Map<string, number>;
}

/**
 * featureSummary in slices of work (see steps.ts), for the extension host: a million items of 8
 * features held it 415 ms in one piece. One pass over the records, each read once (a table that
 * parses users on demand parses each once, and keeps none).
 */
export function* featureSummarySteps(records: RecordList<{ features?: FeatureMap }>, schema: Record<string, FeatureType> = {}): Steps<{ name: string; text: string }[]> {
  const names = new Set(Object.keys(schema));
  for (let i = 0; i < Math.min(1000, records.length); i++) for (const k of Object.keys(records.at(i)?.features ?? {})) names.add(k);
  const sorted = [...names].sort();
  const tallies: FeatureTally[] = sorted.map(() => ({ n: 0, missing: 0, min: Infinity, max: -Infinity, sum: 0, trues: 0, bools: 0, counts: new Map() }));
  // A turn every RECORDS_PER_STEP values, as before (a record of many features is that much work).
  let work = 0;
  for (let i = 0; i < records.length; i++) {
    work += Math.max(1, sorted.length);
    for (; work >= RECORDS_PER_STEP; work -= RECORDS_PER_STEP) yield;
    const f = records.at(i)?.features;
    for (let j = 0; j < sorted.length; j++) {
      const t = tallies[j] as FeatureTally;
      const v = f?.[sorted[j] as string];
      if (v === undefined || v === null) {
        t.missing++;
        continue;
      }
      if (typeof v === 'number') {
        t.n++;
        t.sum += v;
        if (v < t.min) t.min = v;
        if (v > t.max) t.max = v;
      } else if (typeof v === 'boolean') {
        t.bools++;
        if (v) t.trues++;
      } else t.counts.set(v, (t.counts.get(v) ?? 0) + 1);
    }
  }
  return sorted.map((name, j) => {
    const t = tallies[j] as FeatureTally;
    const parts: string[] = [];
    if (t.n) parts.push(`min ${fmt(t.min)} · mean ${fmt(t.sum / t.n)} · max ${fmt(t.max)}`);
    if (t.bools) parts.push(`${fmt((100 * t.trues) / t.bools)}% true`);
    if (t.counts.size) {
      const top = [...t.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
      parts.push(`${t.counts.size} values: ${top.map(([k, c]) => `${k} (${c})`).join(', ')}${t.counts.size > 3 ? ', …' : ''}`);
    }
    if (t.missing) parts.push(`${t.missing} missing`);
    return { name, text: parts.join(' · ') || 'no values' };
  });
}

/** Counts of a string field (segment, category), most common first. */
export function countBy<T>(records: RecordList<T>, key: (r: T) => string | undefined): [string, number][] {
  return runSteps(countBySteps(records, key));
}

/** countBy in slices of work (see steps.ts): the segments of a million users parsed one at a time. */
export function* countBySteps<T>(records: RecordList<T>, key: (r: T) => string | undefined): Steps<[string, number][]> {
  const m = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
    const r = records.at(i) as T;
    const k = key(r) ?? '(none)';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** "08:00:31" from an ISO timestamp (UTC; the slice's clock says which zone the data is in). */
export function clockTime(iso: string | undefined): string {
  if (!iso) return '?';
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? (m[1] as string) : iso;
}

/** A time window label: "2025-07-21 08:00:31 – 08:05:10", the date repeated only when it changes. */
export function windowLabel(a: string | undefined, b: string | undefined): string {
  if (!a || !b) return '';
  const da = a.slice(0, 10);
  const db = b.slice(0, 10);
  return `${da} ${clockTime(a)} – ${db === da ? '' : db + ' '}${clockTime(b)}`;
}

/**
 * Events of each session, in order of the session's first event: the names, and every event number
 * grouped by session in two flat arrays (a million sessions took ~240 MB as a Map of arrays; this
 * is the names and 8 bytes an event).
 */
export class SessionIndex {
  constructor(
    /** Session names, in order of their first event ("(no session)" for events without one). */
    readonly names: readonly string[],
    /** Where each session's events start in `byEvent` (one more entry than sessions). */
    private readonly starts: Uint32Array,
    /** Event numbers, session by session, in order within each. */
    private readonly byEvent: Uint32Array,
  ) {}

  get sessions(): number {
    return this.names.length;
  }

  /** Events of session `s` (0-based). */
  count(s: number): number {
    return (this.starts[s + 1] ?? 0) - (this.starts[s] ?? 0);
  }

  /** The `i`th (1-based) event number of session `s`, or undefined past its end. */
  event(s: number, i: number): number | undefined {
    return i >= 1 && i <= this.count(s) ? this.byEvent[(this.starts[s] as number) + i - 1] : undefined;
  }

  /** The event numbers of the session named `name` (linear in sessions: for tests and rare lookups). */
  eventsOf(name: string): number[] | undefined {
    const s = this.names.indexOf(name);
    return s < 0 ? undefined : Array.from(this.byEvent.subarray(this.starts[s], this.starts[s + 1]));
  }
}

/**
 * Reads events.jsonl once, line by line (never whole), and groups event numbers by session.
 * Events without a session go under "(no session)". Undefined when cancelled.
 */
export async function scanSessions(eventsPath: string, totalBytes: number, token?: Cancellation, onProgress?: (fraction: number) => void): Promise<SessionIndex | undefined> {
  const stream = createReadStream(eventsPath, { highWaterMark: 1 << 20 });
  const names: string[] = [];
  // (Only while scanning: the index keeps the names and two typed arrays.)
  const ids = new Map<string, number>();
  let sessionOf = new Uint32Array(1 << 16);
  let n = 0;
  try {
    // Lines as the slice numbers them: split at "\n" only, a blank line counted (it is an event,
    // that does not read); readline skipped nothing but split at a lone "\r", and the blank lines
    // skipped here shifted every later event's number.
    // A line is kept whole until its end: one without an end in sight (a missing line break, a
    // file that is no slice's) was gathered into the extension host to the end of the file.
    for await (const text of linesOf(stream, EventCursor.maxLineBytes, (line, bytes) => lineTooLong(eventsPath, line, bytes, EventCursor.maxLineBytes))) {
      n++;
      // Read without parsing the line (sessionField.ts); a malformed line is reported where it
      // matters (reading or replaying it), here it has the session it names, if any.
      const s = sessionOfLine(text);
      const session = s === undefined || s === '' ? '(no session)' : s;
      let id = ids.get(session);
      if (id === undefined) {
        id = names.length;
        ids.set(session, id);
        names.push(session);
      }
      if (n > sessionOf.length) {
        const grown = new Uint32Array(sessionOf.length * 2);
        grown.set(sessionOf);
        sessionOf = grown;
      }
      sessionOf[n - 1] = id;
      if ((n & 1023) === 0) {
        if (token?.isCancellationRequested) return undefined;
        onProgress?.(totalBytes ? Math.min(1, stream.bytesRead / totalBytes) : 0);
      }
    }
  } finally {
    stream.destroy();
  }
  // Counting sort: each session's events, in event order.
  const starts = new Uint32Array(names.length + 1);
  for (let e = 0; e < n; e++) {
    const id = (sessionOf[e] as number) + 1;
    starts[id] = (starts[id] as number) + 1;
  }
  for (let id = 1; id <= names.length; id++) starts[id] = (starts[id] as number) + (starts[id - 1] as number);
  const next = starts.slice(0, names.length);
  const byEvent = new Uint32Array(n);
  for (let e = 0; e < n; e++) {
    const id = sessionOf[e] as number;
    byEvent[next[id] as number] = e + 1;
    next[id] = (next[id] as number) + 1;
  }
  return new SessionIndex(names, starts, byEvent);
}

