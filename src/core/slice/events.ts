import { UserError, shown } from '../errors';
import { instantHint, parseInstant } from '../time';
import type { EventRecord, FeatureMap, FeatureType } from './types';

let lastStamp: string | undefined;
let lastMs = Number.NaN;

/**
 * parseInstant of an event's "t" (NaN unless it carries a timezone), remembering the last one:
 * the reader checks it and the engine needs it as a number right after, so each event's
 * timestamp is parsed once.
 */
export function timeOf(t: string): number {
  if (t !== lastStamp) {
    lastMs = parseInstant(t);
    lastStamp = t;
  }
  return lastMs;
}

/**
 * Parses and checks one line of events.jsonl; errors name file:line and the field.
 * `candidateTypes`: the manifest's schema.candidate (see checkEvent).
 */
export function parseEventLine(text: string, file: string, line: number, candidateTypes?: Readonly<Record<string, FeatureType>>, contextTypes?: Readonly<Record<string, FeatureType>>): EventRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') throw new UserError('blank line', { file, line }, 'Every line of events.jsonl must hold one event; remove the blank line.');
    if (text.charCodeAt(0) === 0xfeff) throw bomError(file, line);
    const reason = (e as Error).message;
    const hint = /\bNaN\b|Infinity/.test(text)
      ? 'NaN and Infinity are not valid JSON numbers: write null for a missing value, or fix the producer.'
      : 'Each line must be one complete JSON object.';
    throw new UserError(`malformed JSON: ${reason}`, { file, line }, hint);
  }
  return checkEvent(value, file, line, false, candidateTypes, contextTypes);
}

/** A UTF-8 byte-order mark before the first line: JSON.parse's own message would show an invisible character. */
function bomError(file: string, line: number): UserError {
  return new UserError('the line starts with a UTF-8 byte-order mark (U+FEFF), which is not JSON', { file, line }, 'Save the file as UTF-8 without a byte-order mark (an editor\'s "UTF-8" rather than "UTF-8 with BOM"), then re-freeze the slice.');
}

function fail(file: string, line: number, field: string, message: string, hint?: string): never {
  throw new UserError(message, { file, line, field }, hint);
}

/**
 * Checks the shape of an event record; the cheap checks run on every replayed event.
 * `candidatesChecked`: the reader thread has already checked the candidates (see digest.ts).
 * `candidateTypes`: a candidate feature typed "number" there must not hold a string or boolean
 * (a ranker would read it as 0). Only non-numbers are looked up, so a line of numbers costs nothing
 * more, and the reader thread's digests, which hold finite numbers only, need no lookup at all.
 * `contextTypes`: the same for the request context (the manifest's schema.context).
 */
export function checkEvent(value: unknown, file: string, line: number, candidatesChecked = false, candidateTypes?: Readonly<Record<string, FeatureType>>, contextTypes?: Readonly<Record<string, FeatureType>>): EventRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, line, '(line)', 'an event must be a JSON object');
  const e = value as Record<string, unknown>;
  if (typeof e['id'] !== 'string' || e['id'] === '') fail(file, line, 'id', 'missing or non-string "id"');
  if (typeof e['t'] !== 'string' || Number.isNaN(timeOf(e['t']))) {
    fail(file, line, 't', `"t" must be an RFC 3339 timestamp with a timezone (Z or ±HH:MM), got ${shown(e['t'])}`, instantHint(e['t']));
  }
  if (typeof e['user'] !== 'string') fail(file, line, 'user', 'missing or non-string "user"');
  const cands = e['candidates'];
  if (!Array.isArray(cands)) fail(file, line, 'candidates', '"candidates" must be an array');
  for (let i = candidatesChecked ? cands.length : 0; i < cands.length; i++) {
    const c = cands[i] as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null || typeof c['item'] !== 'string') fail(file, line, `candidates[${i}].item`, 'each candidate needs a string "item"');
    const s = c['score'];
    if (s !== undefined && s !== null && (typeof s !== 'number' || !Number.isFinite(s))) fail(file, line, `candidates[${i}].score`, `score must be a finite number, got ${String(s)}`);
    if (c['features'] !== undefined) checkFeatures(c['features'], file, line, `candidates[${i}].features`, candidateTypes);
  }
  const served = e['served'];
  if (!Array.isArray(served) || !allStrings(served)) fail(file, line, 'served', '"served" must be an array of item ids');
  if (e['context'] !== undefined) checkFeatures(e['context'], file, line, 'context', contextTypes);
  const outcome = e['outcome'] as Record<string, unknown> | undefined;
  if (outcome !== undefined) {
    if (typeof outcome !== 'object' || outcome === null) fail(file, line, 'outcome', `"outcome" must be an object {"clicks": [...], ...}, got ${shown(outcome)}`);
    const clicks = outcome['clicks'];
    if (clicks !== undefined && !(Array.isArray(clicks) && allStrings(clicks))) {
      fail(file, line, 'outcome.clicks', `"outcome.clicks" must be an array of item ids (strings), got ${shown(clicks)}`, 'Write the ids of the clicked items as strings, as in "served", e.g. ["i_42"].');
    }
  }
  const times = e['featureTimes'];
  if (times !== undefined && times !== null) checkFeatureTimes(times, file, line);
  const sys = e['system'];
  if (typeof sys === 'object' && sys !== null) checkSystem(sys as Record<string, unknown>, file, line);
  return e as unknown as EventRecord;
}

/** Whether every element is a string (a loop, not some() with a closure: this runs per event). */
function allStrings(a: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') return false;
  return true;
}

/**
 * The figures of `system` the engine computes with are finite numbers of 0 or more (1e999 parses as
 * Infinity; a negative latency or count is a broken log, and would pull sums and means below zero);
 * null counts as not recorded. Anything else would be silently left out ("7" from queue_depth.mean)
 * or replaced by a default latency. Per replayed event: no closure, and a field name is only built
 * for the error.
 */
function checkSystem(sys: Record<string, unknown>, file: string, line: number): void {
  const q = sys['queueDepth'];
  if (badFigure(q)) notFigure(file, line, 'system.queueDepth', q);
  const lat = sys['latencyMs'];
  if (typeof lat === 'object' && lat !== null) {
    for (const k in lat) {
      const v = (lat as Record<string, unknown>)[k];
      if (badFigure(v)) notFigure(file, line, `system.latencyMs.${k}`, v);
    }
  }
  const cache = sys['cache'];
  if (typeof cache === 'object' && cache !== null) {
    const h = (cache as Record<string, unknown>)['hits'];
    const m = (cache as Record<string, unknown>)['misses'];
    if (badFigure(h)) notFigure(file, line, 'system.cache.hits', h);
    if (badFigure(m)) notFigure(file, line, 'system.cache.misses', m);
  }
}

/** A latency, a queue depth or a cache count is a finite number of 0 or more. */
function badFigure(v: unknown): boolean {
  return typeof v === 'number' ? !(v >= 0 && v < Infinity) : v !== undefined && v !== null;
}

function notFigure(file: string, line: number, field: string, v: unknown): never {
  const what = typeof v !== 'number' ? `${field} must be a number, got ${shown(v)}` : v < 0 ? `${field} is ${v}: it counts or times something, so it cannot be below 0` : `${field} is ${v}`;
  fail(file, line, field, what, 'System figures must be finite numbers of 0 or more; leave the field out when it was not recorded.');
}

/** Every featureTimes value is a timestamp with a timezone (the engine turns it into a feature age). */
function checkFeatureTimes(value: unknown, file: string, line: number): void {
  if (typeof value !== 'object' || Array.isArray(value)) fail(file, line, 'featureTimes', '"featureTimes" must be an object of feature name → timestamp');
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== 'string' || Number.isNaN(parseInstant(v))) {
      fail(file, line, `featureTimes.${key}`, `feature time must be an RFC 3339 timestamp with a timezone, got ${shown(v)}`, instantHint(v));
    }
  }
}

/**
 * Feature values are numbers (finite), strings, booleans or null; with `types` (the manifest's
 * schema for these features), a feature typed "number" holds a number or null.
 */
export function checkFeatures(value: unknown, file: string, line: number, field: string, types?: Readonly<Record<string, FeatureType>>): asserts value is FeatureMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, line, field, `"${field}" must be an object of feature values`);
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(file, line, `${field}.${key}`, `feature value is ${v}`, 'Features must be finite numbers; write null for a missing value.');
    } else if (v !== null && typeof v !== 'string' && typeof v !== 'boolean') {
      fail(
        file,
        line,
        `${field}.${key}`,
        `feature value must be a number, string, boolean or null, got ${shown(v)}`,
        'Features are flat values: write a list or an object as separate features (e.g. "x_0", "x_1") or as a string.',
      );
    } else if (v !== null && types !== undefined && types[key] === 'number') {
      fail(
        file,
        line,
        `${field}.${key}`,
        `feature "${key}" must be a number (the manifest's schema types it "number"), got ${shown(v)}`,
        'Write the value as a JSON number, or null when it is missing; if the feature really holds text, the manifest\'s "schema" is wrong: re-freeze the slice.',
      );
    }
  }
}

/**
 * The line of a JSONL text of records (items, users) that holds the record with this id, for an
 * error found after parsing (a ranker's check). Error path only: it parses the text again rather
 * than keeping a line number for every record of every open slice.
 */
export function recordLineOf(text: string, id: string): number | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    try {
      if ((JSON.parse(raw) as { id?: unknown } | null)?.id === id) return i + 1;
    } catch {
      // parseRecords accepted the file; a line that does not parse now is not the one.
    }
  }
  return undefined;
}

/** Record files of fewer bytes than this are decoded whole, larger ones a line at a time (tests lower it). */
export const recordDecoding = { wholeBelow: 256 * 1024 * 1024 };

/** The lines of `buf` (split at LF, as String.split would split its text), each decoded alone. */
function bufferLines(buf: Buffer): string[] {
  const lines: string[] = [];
  let s = 0;
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, s)) {
    lines.push(buf.toString('utf8', s, nl));
    s = nl + 1;
  }
  lines.push(buf.toString('utf8', s));
  return lines;
}

/**
 * Checks one item or user record (`kind`): a string "id", finite feature values, string labels
 * (`category`, `group`; `segment`), an `embedding` of finite numbers and, for items, availability
 * windows whose bounds are timestamps with a timezone. null is a label or embedding left out. The
 * reader and the writer both use it, so a slice the writer accepts is one the reader opens.
 */
export function checkRecord(value: unknown, file: string, line: number, kind: 'item' | 'user', types?: Readonly<Record<string, FeatureType>>): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { id?: unknown }).id !== 'string') {
    throw new UserError(`each ${kind} needs a string "id"`, { file, line, field: 'id' }, `Give every ${kind} a string "id", e.g. {"id":"${kind === 'item' ? 'i_42' : 'u_9f3a'}"}.`);
  }
  const rec = value as Record<string, unknown>;
  if (rec['features'] !== undefined) checkFeatures(rec['features'], file, line, 'features', types);
  for (const label of kind === 'item' ? ITEM_LABELS : USER_LABELS) {
    const v = rec[label];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      fail(file, line, label, `"${label}" must be a string, got ${shown(v)}`, `Write the ${kind}'s ${label} as a string, or leave it out.`);
    }
  }
  if (rec['embedding'] !== undefined && rec['embedding'] !== null) checkEmbedding(rec['embedding'], file, line);
  if (kind === 'item' && rec['available'] !== undefined) checkWindows(rec['available'], file, line);
}

const ITEM_LABELS = ['category', 'group'] as const;
const USER_LABELS = ['segment'] as const;

function checkEmbedding(value: unknown, file: string, line: number): void {
  const hint = 'An embedding is an array of finite numbers, e.g. [0.12, -0.4]; leave it out (or write null) when there is none.';
  if (!Array.isArray(value)) fail(file, line, 'embedding', `"embedding" must be an array of numbers, got ${shown(value)}`, hint);
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(file, line, `embedding[${i}]`, `embedding value must be a finite number, got ${shown(x)}`, hint);
  }
}

function checkWindows(value: unknown, file: string, line: number): void {
  if (!Array.isArray(value)) fail(file, line, 'available', '"available" must be an array of windows {"from", "to"}');
  for (let i = 0; i < value.length; i++) {
    const w = value[i] as Record<string, unknown> | null;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) fail(file, line, `available[${i}]`, 'an availability window must be an object {"from", "to"} (either may be left out)');
    for (const bound of ['from', 'to'] as const) {
      const b = w[bound];
      if (b !== undefined && (typeof b !== 'string' || Number.isNaN(parseInstant(b)))) {
        fail(file, line, `available[${i}].${bound}`, `window bound must be an RFC 3339 timestamp with a timezone, got ${shown(b)}`, instantHint(b));
      }
    }
  }
}

/**
 * Reads a JSONL file of records with a string `id` (items, users), given as its text or its bytes:
 * bytes are decoded a line at a time, so a catalogue larger than a string can hold (~512 MiB) still
 * reads (as one string it failed with a bare "Invalid string length").
 */
export function parseRecords<T extends { id: string }>(content: string | Buffer, file: string, kind: 'item' | 'user', types?: Readonly<Record<string, FeatureType>>): T[] {
  const out: T[] = [];
  // (Bytes that fit a string are decoded at once: a line at a time is three times slower on 50k lines.)
  const lines = typeof content === 'string' ? content.split('\n') : content.length < recordDecoding.wholeBelow ? content.toString('utf8').split('\n') : bufferLines(content);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      if (raw.charCodeAt(0) === 0xfeff) throw bomError(file, i + 1);
      throw new UserError(`malformed JSON: ${(e as Error).message}`, { file, line: i + 1 }, `Each line must be one ${kind} object.`);
    }
    checkRecord(v, file, i + 1, kind, types);
    out.push(v as T);
  }
  return out;
}
