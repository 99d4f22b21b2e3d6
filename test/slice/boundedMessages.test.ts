import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { UserError, preview, shown } from '../../src/core/errors';
import { Slice } from '../../src/core/slice/reader';
import { parseEventLine } from '../../src/core/slice/events';
import type { SliceManifest } from '../../src/core/slice/types';
import { eventLine, rawSlice } from '../helpers';

// Error messages quote the bad value through shown(): bounded however deep or large the value is,
// where JSON.stringify overflowed the stack (an internal error, exit 70) or quoted 20 MB.

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The JSON text of an array nested `depth` deep around `inner` (written as text: JSON.stringify would overflow). */
const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

/** shown() as it was: JSON.stringify cut at 60 characters (for values it could write). */
function oldShown(v: unknown): string {
  const s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** fn throws a UserError at file (ending), line and field, with a short message matching `message`. */
function rejects(fn: () => unknown, where: { file: string; line?: number; field: string }, message: RegExp): UserError {
  let caught: unknown;
  assert.throws(fn, (e: unknown) => {
    caught = e;
    return true;
  });
  const e = caught as UserError;
  assert.ok(e instanceof UserError, String(e).slice(0, 300));
  assert.ok(e.where.file?.endsWith(where.file), e.where.file);
  assert.equal(e.where.line, where.line);
  assert.equal(e.where.field, where.field);
  assert.match(e.message, message);
  assert.ok(e.describe().length < 1000, `a short message, not ${e.describe().length} characters`);
  return e;
}

test('shown: the same text as JSON.stringify cut at 60 characters, for any JSON value', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 30 }), fc.double()), (v) => {
      assert.equal(shown(v), oldShown(v));
    }),
    { numRuns: 2000 },
  );
  for (const v of [undefined, null, Number.POSITIVE_INFINITY, -0, Number.NaN, 'x'.repeat(61), 'é'.repeat(70), '😀'.repeat(40), { a: undefined, b: 1 }, [undefined, () => 1], new Date(0), { d: new Date(0) }]) {
    assert.equal(shown(v), oldShown(v), String(v));
  }
});

test('preview: a value nested 200,000 deep or 20 MB long gives a short text, fast', () => {
  const deep = JSON.parse(nested(200_000)) as unknown;
  assert.throws(() => JSON.stringify(deep), RangeError);
  assert.equal(shown(deep), `${'['.repeat(57)}…`);
  const deepObject = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)) as unknown;
  assert.equal(shown(deepObject), `${'{"a":'.repeat(11)}{"…`);
  // Bounded work, counted rather than timed: the elements of a 10-million-element array it reads.
  let reads = 0;
  const big = new Proxy(new Array<number>(20 * 1024 * 1024 / 2).fill(7), {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  assert.equal(shown(big), `[${'7,'.repeat(28)}…`);
  assert.ok(reads < 100, `read ${reads} elements of a 10-million-element array`);
  assert.equal(shown('x'.repeat(20 * 1024 * 1024)), `"${'x'.repeat(56)}…`);
  assert.equal(shown({ ['k'.repeat(1e6)]: 1 }), `{"${'k'.repeat(55)}…`);
  // A cycle (no JSON at all) is quoted as far as it goes rather than throwing.
  const cycle: Record<string, unknown> = {};
  cycle['self'] = cycle;
  assert.equal(shown(cycle), `${'{"self":'.repeat(7)}{…`);
  assert.equal(preview([1, 2, 3], 80), '[1,2,3]');
  assert.equal(preview('y'.repeat(100), 80), `"${'y'.repeat(76)}…`);
});

test('an event whose candidate feature is nested 10,000 deep is refused at its line and field', () => {
  const line = eventLine('e1', '2025-01-01T00:00:00Z', { candidates: [{ item: 'a', features: { x: 'DEEP' } }] }).replace('"DEEP"', nested(10_000));
  const dir = rawSlice(`${eventLine('e0', '2025-01-01T00:00:00Z')}\n${line}\n`);
  const s = Slice.open(dir);
  try {
    const e = rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field: 'candidates[0].features.x' }, /feature value must be a number, string, boolean or null, got \[\[\[\[/);
    assert.ok(e.message.endsWith('…'));
  } finally {
    s.close();
  }
});

test('deep values in the other fields of an event are refused at their line and field', () => {
  const at = (extra: string, field: string, message: RegExp) => {
    const text = eventLine('e1', '2025-01-01T00:00:00Z', { X: 0 }).replace('"X":0', extra);
    rejects(() => parseEventLine(text, 'events.jsonl', 7), { file: 'events.jsonl', line: 7, field }, message);
  };
  at(`"context":{"c":${nested(10_000)}}`, 'context.c', /feature value must be/);
  at(`"outcome":{"clicks":${nested(10_000, '"a"')}}`, 'outcome.clicks', /"outcome\.clicks" must be an array of item ids \(strings\), got \[\[\[/);
  at(`"featureTimes":{"x":${nested(10_000)}}`, 'featureTimes.x', /feature time must be an RFC 3339 timestamp with a timezone, got \[\[\[/);
  at(`"system":{"queueDepth":${nested(10_000)}}`, 'system.queueDepth', /system\.queueDepth must be a number, got \[\[\[/);
  const t = `{"id":"e1","t":${nested(10_000, '"2025-01-01T00:00:00Z"')},"user":"u1","candidates":[],"served":[]}`;
  rejects(() => parseEventLine(t, 'events.jsonl', 3), { file: 'events.jsonl', line: 3, field: 't' }, /"t" must be an RFC 3339 timestamp with a timezone \(Z or ±HH:MM\), got \[\[\[/);
});

test('a 20 MB feature array is quoted in a short message', () => {
  const text = eventLine('e1', '2025-01-01T00:00:00Z', { candidates: [{ item: 'a', features: { x: 'BIG' } }] }).replace('"BIG"', `[${'1,'.repeat(10 * 1024 * 1024)}1]`);
  const e = rejects(() => parseEventLine(text, 'events.jsonl', 1), { file: 'events.jsonl', line: 1, field: 'candidates[0].features.x' }, /got \[1,1,1,/);
  assert.ok(e.message.length < 200, `${e.message.length} characters`);
});

test('an item feature nested 200,000 deep is refused at its line of items.jsonl', () => {
  const items = `{"id":"i1"}\n{"id":"i2","features":{"f":${nested(200_000)}}}\n`;
  const dir = rawSlice(`${eventLine('e1', '2025-01-01T00:00:00Z')}\n`, (m) => {
    m.files[1] = { path: 'items.jsonl', sha256: sha(items), bytes: Buffer.byteLength(items), records: 2 };
  });
  writeFileSync(join(dir, 'items.jsonl'), items);
  rejects(() => Slice.open(dir), { file: 'items.jsonl', line: 2, field: 'features.f' }, /feature value must be a number, string, boolean or null, got \[\[\[/);
});

test('slice.json whose "format" is nested 10,000 deep is refused naming the field', () => {
  const dir = rawSlice(`${eventLine('e1', '2025-01-01T00:00:00Z')}\n`);
  const path = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as SliceManifest;
  writeFileSync(path, JSON.stringify({ ...m, format: 'DEEP' }).replace('"DEEP"', nested(10_000, '"recreplay.slice/1"')));
  for (const open of [() => Slice.open(dir), () => Slice.verifyFolder(dir)]) {
    // Refused for its depth before its value is looked at (a deep unknown field crashed info --json).
    rejects(open, { file: 'slice.json', field: 'format' }, /manifest is invalid — it holds a value nested more than 64 levels deep/);
  }
});
