import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors';
import { parseEventLine } from '../../src/core/slice/events';
import { validateManifest } from '../../src/core/slice/manifest';
import { Slice } from '../../src/core/slice/reader';
import type { SliceManifest } from '../../src/core/slice/types';
import { caught, eventLine, rawSlice } from '../helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** A key of 2 MB: an error must not print it whole. */
const HUGE = 'k'.repeat(2_000_000);

/** An events.jsonl line: a valid event with `extra` fields set (undefined deletes one). */
function line(extra: Record<string, unknown>): string {
  const e = JSON.parse(eventLine('e1', '2025-01-01T00:00:01Z')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return JSON.stringify(e);
}

/** Parsing this event line is refused at events.jsonl:2 and `field`, with a message matching `message` and a hint. */
function refused(text: string, field: string, message: RegExp): UserError {
  const e = caught(() => parseEventLine(text, 'events.jsonl', 2));
  assert.equal(e.where.file, 'events.jsonl');
  assert.equal(e.where.line, 2);
  assert.equal(e.where.field, field);
  assert.match(e.message, message);
  assert.ok(e.hint, `the error says what to do: ${e.message}`);
  return e;
}

test('a candidate score that is not a number is quoted as JSON (an object, a string, an array), with a hint', () => {
  refused(line({ candidates: [{ item: 'a', score: { v: 1 } }] }), 'candidates[0].score', /got \{"v":1\}$/);
  refused(line({ candidates: [{ item: 'a', score: '0.8' }] }), 'candidates[0].score', /got "0\.8"$/);
  refused(line({ candidates: [{ item: 'a', score: [1] }] }), 'candidates[0].score', /got \[1\]$/);
});

test('a missing "t" is said to be missing, with the timestamp hint', () => {
  const e = refused(line({ t: undefined }), 't', /^"t" is missing/);
  assert.doesNotMatch(e.message, /undefined/);
  assert.match(e.hint ?? '', /RFC 3339/);
});

test('every shape error of an event says what to write', () => {
  refused('[1,2]', '(line)', /an event must be a JSON object/);
  refused(line({ id: undefined }), 'id', /"id" is missing/);
  refused(line({ id: 7 }), 'id', /"id" must be a non-empty string, got 7/);
  refused(line({ user: undefined }), 'user', /"user" is missing/);
  refused(line({ user: 3 }), 'user', /"user" must be a string, got 3/);
  refused(line({ candidates: 'a' }), 'candidates', /"candidates" must be an array, got "a"/);
  refused(line({ candidates: undefined }), 'candidates', /^"candidates" is missing$/);
  refused(line({ candidates: [{ id: 'a' }] }), 'candidates[0].item', /each candidate needs a string "item"/);
  refused(line({ served: 'a' }), 'served', /"served" must be an array of item ids/);
  refused(line({ context: [1] }), 'context', /must be an object of feature values/);
});

test('outcome.dwellMs is an object of item id → milliseconds of 0 or more; outcome is an object, not an array', () => {
  refused(line({ outcome: ['a'] }), 'outcome', /"outcome" must be an object/);
  refused(line({ outcome: { dwellMs: 'long' } }), 'outcome.dwellMs', /must be an object of item id → milliseconds, got "long"/);
  refused(line({ outcome: { dwellMs: [3000] } }), 'outcome.dwellMs', /got \[3000\]/);
  refused(line({ outcome: { dwellMs: { i1: '3000' } } }), 'outcome.dwellMs.i1', /must be a number of milliseconds, got "3000"/);
  refused(line({ outcome: { dwellMs: { i1: -5 } } }), 'outcome.dwellMs.i1', /is -5/);
  // What the format documents still reads.
  for (const ok of [{ clicks: ['a'], dwellMs: { a: 31000, b: 0 } }, { clicks: [] }, { dwellMs: null }]) parseEventLine(line({ outcome: ok }), 'events.jsonl', 2);
});

test('system, system.latencyMs and system.cache that are not objects are refused, not replaced by defaults', () => {
  refused(line({ system: 'fast' }), 'system', /"system" must be an object, got "fast"/);
  refused(line({ system: [1] }), 'system', /got \[1\]/);
  refused(line({ system: { latencyMs: 12 } }), 'system.latencyMs', /"system\.latencyMs" must be an object, got 12/);
  refused(line({ system: { latencyMs: [12] } }), 'system.latencyMs', /got \[12\]/);
  refused(line({ system: { cache: 'warm' } }), 'system.cache', /"system\.cache" must be an object/);
  refused(line({ system: { cache: [40, 3] } }), 'system.cache', /got \[40,3\]/);
  parseEventLine(line({ system: { latencyMs: { retrieve: 1, features: 2, score: 3, rerank: 4, serve: 5, outcome: 6 }, cache: { hits: 1, misses: 0 }, queueDepth: 3 } }), 'events.jsonl', 2);
  parseEventLine(line({ system: null }), 'events.jsonl', 2);
});

test('a latency of a stage that does not exist (a misspelt "scor") is refused with the near stage and the six stages', () => {
  const e = refused(line({ system: { latencyMs: { scor: 20 } } }), 'system.latencyMs.scor', /not a stage; did you mean "score"\?/);
  assert.match(e.hint ?? '', /retrieve, features, score, rerank, serve, outcome/);
});

test('a 2 MB key is cut in the message and the field (context, candidate features, featureTimes, dwellMs, latencyMs)', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ context: { [HUGE]: [1] } }, /^context\.k+…$/],
    [{ candidates: [{ item: 'a', features: { [HUGE]: { a: 1 } } }] }, /^candidates\[0\]\.features\.k+…$/],
    [{ featureTimes: { [HUGE]: 'yesterday' } }, /^featureTimes\.k+…$/],
    [{ outcome: { dwellMs: { [HUGE]: -1 } } }, /^outcome\.dwellMs\.k+…$/],
    [{ system: { latencyMs: { [HUGE]: 1 } } }, /^system\.latencyMs\.k+…$/],
  ];
  for (const [extra, field] of cases) {
    const e = caught(() => parseEventLine(line(extra), 'events.jsonl', 2));
    assert.ok(e.describe().length < 1000, `${e.describe().length} characters: ${e.describe().slice(0, 200)}`);
    assert.match(e.describe(), /\(field [^)]*…\)/);
    assert.ok((e.where.field ?? '').length < 100, String(e.where.field?.length));
    assert.match(e.where.field ?? '', field);
  }
  // describe() cuts any field, whoever built it.
  assert.ok(new UserError('bad', { file: 'f', field: HUGE }).describe().length < 200);
});

/** A raw slice whose items.jsonl (and users.jsonl) hold these texts. */
function recordSlice(items: string, users?: string): string {
  const entry = (path: string, text: string) => ({ path, sha256: sha(text), bytes: Buffer.byteLength(text), records: text.split('\n').filter((l) => l !== '').length });
  const ev = eventLine('e1', '2025-01-01T00:00:01Z') + '\n';
  const dir = rawSlice(ev, (m) => {
    m.files = [m.files[0] as SliceManifest['files'][number], entry('items.jsonl', items), ...(users !== undefined ? [entry('users.jsonl', users)] : [])];
  });
  writeFileSync(join(dir, 'items.jsonl'), items);
  if (users !== undefined) writeFileSync(join(dir, 'users.jsonl'), users);
  return dir;
}

test('an item or user line holding NaN gets the NaN hint events.jsonl gets', () => {
  for (const [items, users, file] of [['{"id":"i1","features":{"x":NaN}}\n', undefined, 'items.jsonl'], ['{"id":"i1"}\n', '{"id":"u1","features":{"x":Infinity}}\n', 'users.jsonl']] as const) {
    const e = caught(() => Slice.open(recordSlice(items, users)));
    assert.ok(e.where.file?.endsWith(file), e.where.file);
    assert.equal(e.where.line, 1);
    assert.match(e.hint ?? '', /NaN and Infinity are not valid JSON numbers/);
  }
});

test('a 2 MB feature name of an item or a user is cut in the error', () => {
  for (const [items, users] of [[JSON.stringify({ id: 'i1', features: { [HUGE]: [1] } }) + '\n', undefined], ['{"id":"i1"}\n', JSON.stringify({ id: 'u1', features: { [HUGE]: { a: 1 } } }) + '\n']] as const) {
    const e = caught(() => Slice.open(recordSlice(items, users)));
    assert.match(e.where.field ?? '', /^features\.k+…$/);
    assert.ok(e.describe().length < 1000, `${e.describe().length} characters`);
  }
});

test('an availability window with a key other than from/to (a misspelt "form") is refused, not an always-available item', () => {
  const e = caught(() => Slice.open(recordSlice('{"id":"i1","available":[{"form":"2025-01-01T00:00:00Z"}]}\n')));
  assert.equal(e.where.line, 1);
  assert.equal(e.where.field, 'available[0].form');
  assert.match(e.message, /only "from" and "to", not "form"; did you mean "from"\?/);
  assert.ok(e.hint);
  // from/to alone (or either) still open.
  Slice.open(recordSlice('{"id":"i1","available":[{"from":"2025-01-01T00:00:00Z","to":"2025-02-01T00:00:00Z"},{"to":"2025-03-01T00:00:00Z"}]}\n')).close();
});

test('unknown keys in the manifest\'s pipeline are refused, naming the allowed keys (and the near one)', () => {
  const base = JSON.parse(readFileSync(join(rawSlice(eventLine('e1', '2025-01-01T00:00:01Z') + '\n'), 'slice.json'), 'utf8')) as Record<string, unknown>;
  const misspelt = caught(() => validateManifest({ ...base, pipeline: { k: 4, budgetMs: 100, staleAfterSecs: 60 } }, 'slice.json'));
  assert.equal(misspelt.where.field, 'pipeline.staleAfterSecs');
  assert.match(misspelt.message, /pipeline\.staleAfterSecs: is not a field here \(allowed: k, budgetMs, stageBudgetMs, staleAfterSec, maxPerCategory\); did you mean "staleAfterSec"\?/);
  const kk = caught(() => validateManifest({ ...base, pipeline: { k: 4, budgetMs: 100, kk: 3 } }, 'slice.json'));
  assert.equal(kk.where.field, 'pipeline.kk');
  // A 2 MB key there is cut.
  const huge = caught(() => validateManifest({ ...base, pipeline: { k: 4, budgetMs: 100, [HUGE]: 1 } }, 'slice.json'));
  assert.ok(huge.describe().length < 1000, `${huge.describe().length} characters`);
  validateManifest({ ...base, pipeline: { k: 4, budgetMs: 100, stageBudgetMs: { score: 10 }, staleAfterSec: 60, maxPerCategory: 2 } }, 'slice.json');
});

test('a 2 MB manifest path is cut in the error', () => {
  const e = caught(() => Slice.open(rawSlice(eventLine('e1', '2025-01-01T00:00:01Z') + '\n', (m) => m.files.push({ path: '../' + 'y'.repeat(2_000_000), sha256: 'a'.repeat(64), bytes: 1 }))));
  assert.match(e.message, /escapes the slice folder/);
  assert.ok(e.describe().length < 1000, `${e.describe().length} characters`);
});

test('a malformed pretty-printed slice.json is named with its line and column', () => {
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:01Z') + '\n');
  writeFileSync(join(dir, 'slice.json'), '{\n  "format": "recreplay.slice/1",\n  "seed": NaN,\n  "name": "x",\n}\n');
  const e = caught(() => Slice.open(dir));
  assert.deepEqual([e.where.line, e.where.column], [3, 11]);
  assert.match(e.describe(), /slice\.json:3:11: malformed JSON: Unexpected token 'N'\n/);
  assert.doesNotMatch(e.message, /position/);
  writeFileSync(join(dir, 'slice.json'), '{\n  "format": "recreplay.slice/1",\n  "name": "x",\n}\n');
  const trailing = caught(() => Slice.open(dir));
  assert.match(trailing.describe(), /slice\.json:4:1: malformed JSON: Expected double-quoted property name\n/);
});

test('a missing file with a 2 MB path is named in a short message', () => {
  const long = 'y'.repeat(2_000_000);
  const dir = rawSlice(`${JSON.stringify({ id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [{ item: 'i1' }] })}\n`, (m) => {
    m.files.push({ path: long, sha256: '0'.repeat(64), bytes: 1 });
  });
  assert.throws(
    () => Slice.open(dir),
    (e: unknown) => e instanceof UserError && e.message.length < 300 && e.message.includes('y'.repeat(50)),
  );
});
