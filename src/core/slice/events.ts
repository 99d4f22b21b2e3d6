import { UserError, shown, shownName } from '../errors';
import { suggest } from '../expr/suggest';
import { instantHint, parseInstant } from '../time';
import { CHARS_PER_STEP, runSteps, type Steps } from '../steps';
import { isUtf8, notUtf8 } from './utf8';
import { STAGES, type EventRecord, type FeatureMap, type FeatureType } from './types';

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
    const hint = NAN.test(text) ? NAN_HINT : 'Each line must be one complete JSON object.';
    throw new UserError(`malformed JSON: ${reason}`, { file, line }, hint);
  }
  return checkEvent(value, file, line, false, candidateTypes, contextTypes);
}

/** A line that JSON.parse refused and that holds one of these was written by a producer that writes NaN or Infinity. */
const NAN = /\bNaN\b|Infinity/;
const NAN_HINT = 'NaN and Infinity are not valid JSON numbers: write null for a missing value, or fix the producer.';

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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(file, line, '(line)', `an event must be a JSON object, got ${shown(value)}`, 'Each line of events.jsonl is one event object, e.g. {"id":"e1","t":"2025-07-21T09:12:03Z","user":"u_9f3a","candidates":[{"item":"i_42"}],"served":["i_42"]}.');
  }
  const e = value as Record<string, unknown>;
  if (typeof e['id'] !== 'string' || e['id'] === '') {
    fail(file, line, 'id', e['id'] === undefined ? '"id" is missing' : `"id" must be a non-empty string, got ${shown(e['id'])}`, 'Give every event a non-empty string "id", e.g. "id":"e000532".');
  }
  if (typeof e['t'] !== 'string' || Number.isNaN(timeOf(e['t']))) {
    const what = '"t" must be an RFC 3339 timestamp with a timezone (Z or ±HH:MM)';
    fail(file, line, 't', e['t'] === undefined ? `"t" is missing: ${what}` : `${what}, got ${shown(e['t'])}`, instantHint(e['t']));
  }
  if (typeof e['user'] !== 'string') {
    fail(file, line, 'user', e['user'] === undefined ? '"user" is missing' : `"user" must be a string, got ${shown(e['user'])}`, 'Give every event the (pseudonymous) id of its user as a string, e.g. "user":"u_9f3a".');
  }
  const cands = e['candidates'];
  if (!Array.isArray(cands)) fail(file, line, 'candidates', cands === undefined ? '"candidates" is missing' : `"candidates" must be an array, got ${shown(cands)}`, 'Write the ranked candidates as an array of objects, e.g. "candidates":[{"item":"i_42","score":0.8}] ([] when there were none).');
  for (let i = candidatesChecked ? cands.length : 0; i < cands.length; i++) {
    const c = cands[i] as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null || typeof c['item'] !== 'string') {
      fail(file, line, `candidates[${i}].item`, `each candidate needs a string "item", got ${shown(c)}`, 'Write each candidate as an object with its item id as a string, e.g. {"item":"i_42","score":0.8}.');
    }
    const s = c['score'];
    if (s !== undefined && s !== null && (typeof s !== 'number' || !Number.isFinite(s))) {
      fail(file, line, `candidates[${i}].score`, `score must be a finite number, got ${shown(s)}`, 'Write the recorded score as a JSON number, e.g. {"item":"i_42","score":0.8}, or leave it out (or null) when none was recorded.');
    }
    if (c['features'] !== undefined) checkFeatures(c['features'], file, line, `candidates[${i}].features`, candidateTypes);
  }
  const served = e['served'];
  if (!Array.isArray(served) || !allStrings(served)) {
    fail(file, line, 'served', `"served" must be an array of item ids, got ${shown(served)}`, 'Write the ids of the items shown, in the order shown, as strings, e.g. "served":["i_7","i_42"] ([] when nothing was served).');
  }
  if (e['context'] !== undefined) checkFeatures(e['context'], file, line, 'context', contextTypes);
  const outcome = e['outcome'];
  if (outcome !== undefined) checkOutcome(outcome, file, line);
  const times = e['featureTimes'];
  if (times !== undefined && times !== null) checkFeatureTimes(times, file, line);
  const sys = e['system'];
  if (sys !== undefined && sys !== null) checkSystem(sys, file, line);
  return e as unknown as EventRecord;
}

/** Whether `v` is a JSON object (not null, not an array). */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `outcome`: `clicks`, an array of item ids, and `dwellMs`, an object of item id → milliseconds
 * (0 or more); null for `dwellMs` is one not recorded. An expression reads both, and would
 * otherwise fail on a bad value with an error that blames the expression.
 */
function checkOutcome(outcome: unknown, file: string, line: number): void {
  if (!isObject(outcome)) {
    fail(file, line, 'outcome', `"outcome" must be an object {"clicks": [...], ...}, got ${shown(outcome)}`, 'Write the outcome as an object, e.g. "outcome":{"clicks":["i_7"],"dwellMs":{"i_7":31000}}, or leave it out.');
  }
  const clicks = outcome['clicks'];
  if (clicks !== undefined && !(Array.isArray(clicks) && allStrings(clicks))) {
    fail(file, line, 'outcome.clicks', `"outcome.clicks" must be an array of item ids (strings), got ${shown(clicks)}`, 'Write the ids of the clicked items as strings, as in "served", e.g. ["i_42"].');
  }
  const dwell = outcome['dwellMs'];
  if (dwell === undefined || dwell === null) return;
  const hint = 'Write "dwellMs" as an object of item id → milliseconds (a number of 0 or more), e.g. "dwellMs":{"i_7":31000}, or leave it out.';
  if (!isObject(dwell)) fail(file, line, 'outcome.dwellMs', `"outcome.dwellMs" must be an object of item id → milliseconds, got ${shown(dwell)}`, hint);
  for (const id in dwell) {
    const v = dwell[id];
    if (typeof v !== 'number' || !(v >= 0 && v < Infinity)) {
      const field = `outcome.dwellMs.${shownName(id)}`;
      fail(file, line, field, typeof v === 'number' ? `${field} is ${v}: a dwell time is a finite number of 0 or more` : `${field} must be a number of milliseconds, got ${shown(v)}`, hint);
    }
  }
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
function checkSystem(sys: unknown, file: string, line: number): void {
  // A "system" the engine cannot read would have its recorded latencies replaced by defaults, silently.
  if (!isObject(sys)) notObject(file, line, 'system', sys, '"system":{"latencyMs":{"retrieve":12,"score":20},"queueDepth":17,"cache":{"hits":40,"misses":3}}');
  const q = sys['queueDepth'];
  if (badFigure(q)) notFigure(file, line, 'system.queueDepth', q);
  // An expression reads it ("event.system.fallback"): the string "false" would test true.
  const fb = sys['fallback'];
  if (fb !== undefined && fb !== null && typeof fb !== 'boolean') {
    fail(file, line, 'system.fallback', `"system.fallback" must be true or false, got ${shown(fb)}`, 'Write whether the system served its fallback ranking as a JSON boolean, e.g. "fallback":true, or leave it out.');
  }
  const lat = sys['latencyMs'];
  if (lat !== undefined && lat !== null) {
    if (!isObject(lat)) notObject(file, line, 'system.latencyMs', lat, '"latencyMs":{"retrieve":12,"features":48,"score":20}');
    for (const k in lat) {
      // A misspelt stage ("scor") would leave the stage its default latency.
      if (!(STAGES as readonly string[]).includes(k)) unknownStage(file, line, k);
      const v = lat[k];
      if (badFigure(v)) notFigure(file, line, `system.latencyMs.${k}`, v);
    }
  }
  const cache = sys['cache'];
  if (cache !== undefined && cache !== null) {
    if (!isObject(cache)) notObject(file, line, 'system.cache', cache, '"cache":{"hits":40,"misses":3}');
    const h = cache['hits'];
    const m = cache['misses'];
    if (badFigure(h)) notFigure(file, line, 'system.cache.hits', h);
    if (badFigure(m)) notFigure(file, line, 'system.cache.misses', m);
  }
}

function notObject(file: string, line: number, field: string, v: unknown, example: string): never {
  fail(file, line, field, `"${field}" must be an object, got ${shown(v)}`, `Write it as an object, e.g. ${example}, or leave it out when it was not recorded.`);
}

function unknownStage(file: string, line: number, key: string): never {
  const near = suggest(key, STAGES);
  const field = `system.latencyMs.${shownName(key)}`;
  fail(
    file,
    line,
    field,
    `${field} is not a stage${near === undefined ? '' : `; did you mean "${near}"?`}`,
    `The keys of "latencyMs" are the stages ${STAGES.join(', ')}; a stage left out takes its default latency.`,
  );
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
  if (typeof value !== 'object' || Array.isArray(value)) fail(file, line, 'featureTimes', '"featureTimes" must be an object of feature name → timestamp', 'e.g. "featureTimes":{"ctr_7d":"2025-07-21T08:00:00Z"}');
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== 'string' || Number.isNaN(parseInstant(v))) {
      fail(file, line, `featureTimes.${shownName(key)}`, `feature time must be an RFC 3339 timestamp with a timezone, got ${shown(v)}`, instantHint(v));
    }
  }
}

/**
 * Feature values are numbers (finite), strings, booleans or null; with `types` (the manifest's
 * schema for these features), a feature typed "number" holds a number or null.
 */
export function checkFeatures(value: unknown, file: string, line: number, field: string, types?: Readonly<Record<string, FeatureType>>): asserts value is FeatureMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(file, line, field, `"${field}" must be an object of feature values, got ${shown(value)}`, 'Write features as an object of name → value, e.g. {"ctr_7d":0.054,"device":"ios"}, or leave the field out.');
  }
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(file, line, `${field}.${shownName(key)}`, `feature value is ${v}`, 'Features must be finite numbers; write null for a missing value.');
    } else if (v !== null && typeof v !== 'string' && typeof v !== 'boolean') {
      fail(
        file,
        line,
        `${field}.${shownName(key)}`,
        `feature value must be a number, string, boolean or null, got ${shown(v)}`,
        'Features are flat values: write a list or an object as separate features (e.g. "x_0", "x_1") or as a string.',
      );
    } else if (v !== null && types !== undefined && types[key] === 'number') {
      fail(
        file,
        line,
        `${field}.${shownName(key)}`,
        `feature "${shownName(key)}" must be a number (the manifest's schema types it "number"), got ${shown(v)}`,
        'Write the value as a JSON number, or null when it is missing; if the feature really holds text, the manifest\'s "schema" is wrong: re-freeze the slice.',
      );
    }
  }
}

/**
 * The line (1-based) of record `index` (0-based, in the order parseRecords returns them: blank lines
 * skipped) of a JSONL file of records (items, users), for an error found after parsing (a ranker's
 * check). Error path only, so no line number is kept for every record of every open slice; it
 * counts lines in the bytes rather than parsing them again (2.2 s over a 200 MB catalogue).
 */
export function recordLine(bytes: Uint8Array, index: number): number | undefined {
  let k = -1;
  let line = 0;
  for (let s = 0; s < bytes.length; ) {
    let nl = bytes.indexOf(10, s);
    if (nl < 0) nl = bytes.length;
    line++;
    // A record is a JSON object: its line's first byte past JSON whitespace is "{". Any other line
    // that parseRecords accepted was blank.
    let b = s;
    while (b < nl && (bytes[b] === 0x20 || bytes[b] === 0x09 || bytes[b] === 0x0d)) b++;
    if (b < nl && bytes[b] === 0x7b && ++k === index) return line;
    s = nl + 1;
  }
  return undefined;
}

/** Record files are decoded windows of about this many bytes at a time (tests lower it). */
export const recordDecoding = { window: 8 * 1024 * 1024 };

/** Where the decoding window of `bytes` that starts at `from` ends: just past the first newline a window's length on, or at the end. */
export function windowEnd(bytes: Uint8Array, from: number): number {
  const cut = from + recordDecoding.window >= bytes.length ? -1 : bytes.indexOf(10, from + recordDecoding.window);
  return cut === -1 ? bytes.length : cut + 1;
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
  // An empty id names nothing an event could name (events refuse one): the record would be unreachable.
  if ((value as { id: string }).id === '') {
    throw new UserError(`"id" must be a non-empty string, got ""`, { file, line, field: 'id' }, `Give every ${kind} the id events name it by, e.g. {"id":"${kind === 'item' ? 'i_42' : 'u_9f3a'}"}.`);
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
  const hint = 'Write availability as windows {"from": TIMESTAMP, "to": TIMESTAMP}, e.g. "available":[{"from":"2025-07-01T00:00:00Z"}]; either bound may be left out.';
  if (!Array.isArray(value)) fail(file, line, 'available', `"available" must be an array of windows {"from", "to"}, got ${shown(value)}`, hint);
  for (let i = 0; i < value.length; i++) {
    const w = value[i] as Record<string, unknown> | null;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) fail(file, line, `available[${i}]`, 'an availability window must be an object {"from", "to"} (either may be left out)', hint);
    // A misspelt bound ("form") left the window without it: the item was always available.
    for (const k in w) {
      if (k !== 'from' && k !== 'to') {
        const near = suggest(k, ['from', 'to']);
        fail(file, line, `available[${i}].${shownName(k)}`, `an availability window has only "from" and "to", not ${shown(k)}${near === undefined ? '' : `; did you mean "${near}"?`}`, hint);
      }
    }
    for (const bound of ['from', 'to'] as const) {
      const b = w[bound];
      if (b !== undefined && (typeof b !== 'string' || Number.isNaN(parseInstant(b)))) {
        fail(file, line, `available[${i}].${bound}`, `window bound must be an RFC 3339 timestamp with a timezone, got ${shown(b)}`, instantHint(b));
      }
    }
    // Bounds the wrong way round make a window no time is in: the item would never be available in it.
    if (typeof w['from'] === 'string' && typeof w['to'] === 'string' && parseInstant(w['from']) > parseInstant(w['to'])) {
      fail(file, line, `available[${i}]`, `availability window ends before it starts: "from" ${shown(w['from'])} is after "to" ${shown(w['to'])}`, 'Swap the bounds (a window is from → to); leave a bound out for a window open on that side.');
    }
  }
}

/** A line of JSON whitespace only (space, tab, CR), which a record file may hold between records. */
const JSON_BLANK = /^[ \t\r]*$/;

/**
 * Reads a JSONL file of records with a string `id` (items, users), given as its text or its bytes:
 * bytes are decoded 8 MiB windows at a time, so a catalogue larger than a string can hold (~512 MiB)
 * still reads (as one string it failed with a bare "Invalid string length").
 */
export function parseRecords<T extends { id: string }>(content: string | Buffer, file: string, kind: 'item' | 'user', types?: Readonly<Record<string, FeatureType>>): T[] {
  return runSteps(parseRecordsSteps<T>(content, file, kind, types));
}

/** parseRecords in slices of about CHARS_PER_STEP characters of text (see steps.ts). */
export function* parseRecordsSteps<T extends { id: string }>(content: string | Buffer, file: string, kind: 'item' | 'user', types?: Readonly<Record<string, FeatureType>>): Steps<T[]> {
  const out: T[] = [];
  if (typeof content !== 'string' && !isUtf8(content)) throw notUtf8(content, file);
  // Bytes are decoded a window at a time, each ending just past a newline (decoding a 200 MB
  // catalogue whole was one ~0.2 s step; a line at a time is three times slower than a window).
  // Lines are cut as they are reached, not split up front.
  let line = 0;
  let budget = CHARS_PER_STEP;
  for (let from = 0; ; ) {
    let text: string;
    let last: boolean;
    if (typeof content === 'string') {
      text = content;
      last = true;
    } else {
      const to = windowEnd(content, from);
      if (from > 0) yield;
      text = content.toString('utf8', from, to);
      last = to === content.length;
      from = to;
    }
    for (let at = 0; at >= 0; ) {
      const nl = text.indexOf('\n', at);
      // A window ends just past a newline: what follows its last one belongs to the next.
      if (nl === -1 && !last) break;
      const raw = nl === -1 ? text.slice(at) : text.slice(at, nl);
      at = nl === -1 ? -1 : nl + 1;
      line++;
      if (budget <= 0) {
        budget = CHARS_PER_STEP;
        yield;
      }
      budget -= raw.length + 64;
      // Blank is JSON whitespace alone, as verify counts records (RecordCounter): a line of a no-break
      // space or a byte-order mark is skipped by trim() but counted there, and open then called an
      // intact file modified. (trim() first: the regular expression runs on blank lines only.)
      if (raw.trim() === '' && JSON_BLANK.test(raw)) continue;
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch (e) {
        if (raw.charCodeAt(0) === 0xfeff) throw bomError(file, line);
        throw new UserError(`malformed JSON: ${(e as Error).message}`, { file, line }, NAN.test(raw) ? NAN_HINT : `Each line must be one ${kind} object.`);
      }
      checkRecord(v, file, line, kind, types);
      out.push(v as T);
    }
    if (last) return out;
  }
}
