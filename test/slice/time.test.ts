import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { instantHint, parseInstant } from '../../src/core/time';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import { eventLine, rawSlice } from '../helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A raw slice (no writer checks) with the given events and items.jsonl text. */
function sliceWith(events: string[], itemsText = '', pipeline?: { k: number; budgetMs: number; staleAfterSec?: number }): string {
  const eventsText = events.map((l) => l + '\n').join('');
  const dir = rawSlice(eventsText, (m) => {
    m.files[1] = { path: 'items.jsonl', sha256: sha(itemsText), bytes: Buffer.byteLength(itemsText), records: itemsText.split('\n').filter((l) => l !== '').length };
    if (pipeline) m.pipeline = pipeline;
  });
  writeFileSync(join(dir, 'items.jsonl'), itemsText);
  return dir;
}

function rejects(fn: () => unknown, where: { line?: number; field: string; file: string }, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.where.line, where.line);
    assert.equal(e.where.field, where.field);
    assert.ok(e.where.file?.endsWith(where.file), e.where.file);
    assert.match(e.message + ' ' + (e.hint ?? ''), message);
    return true;
  });
}

test('parseInstant: RFC 3339 instants with Z or an offset give what Date.parse gives', () => {
  const arb = fc.record({
    y: fc.integer({ min: 1000, max: 9999 }),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 31 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.option(fc.integer({ min: 0, max: 59 })),
    // V8 truncates up to 9 fraction digits exactly (past that it misreads leading zeros, see below).
    frac: fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
    zone: fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([sg, oh, om]) => `${sg}${pad(oh)}:${pad(om)}`)),
  });
  fc.assert(
    fc.property(arb, ({ y, mo, d, h, mi, s, frac, zone }) => {
      const time = `${pad(h)}:${pad(mi)}${s === null ? '' : `:${pad(s)}${frac === null ? '' : `.${frac}`}`}`;
      const str = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${time}${zone}`;
      const real = new Date(Date.UTC(y, mo - 1, d)).getUTCMonth() === mo - 1;
      if (real) assert.equal(parseInstant(str), Date.parse(str), str);
      else assert.ok(Number.isNaN(parseInstant(str)), `${str} is not a real date`);
      // Without its zone the same text is refused: Date.parse would read it in local time.
      assert.ok(Number.isNaN(parseInstant(str.slice(0, -zone.length))), str);
    }),
    { numRuns: 2000 },
  );
});

test('parseInstant: a space between date and time, and a lower-case t or z, are the same instant (RFC 3339 allows them; Python and databases print the space)', () => {
  const at = Date.UTC(2019, 10, 24, 0, 3, 13, 442);
  for (const s of ['2019-11-24T00:03:13.442536+00:00', '2019-11-24 00:03:13.442536+00:00', '2019-11-24t00:03:13.442536z', '2019-11-24 00:03:13.442536Z']) assert.equal(parseInstant(s), at, s);
  // Without a zone it is still refused, and the hint says to add one.
  assert.ok(Number.isNaN(parseInstant('2019-11-24 00:03:13')));
  assert.match(instantHint('2019-11-24 00:03:13'), /has no timezone/);
});

test('parseInstant: zone-less, free text, rolled-over and malformed stamps are NaN', () => {
  for (const s of [
    '2025-07-21T09:12:03',
    '2025-07-21T09:12',
    'July 21, 2025 08:00',
    '2025-07-21',
    '2025-13-01T00:00:00Z',
    '2025-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-07-21T24:00:00Z',
    '2025-07-21T23:59:60Z',
    '2025-07-21T09:60:00Z',
    '2025-07-21T09:12:03.Z',
    '2025-07-21T09:12:03+0900',
    '2025-07-21T09:12:03+24:00',
    '2025-07-21T09:12:03+09:60',
    '2025-07-21T09:12:03Zjunk',
    '2025-07-21 09:12:03',
    '2025-07-21_09:12:03Z',
    '+002025-07-21T00:00:00Z',
    '2025-07-21T09:12:',
    '',
  ]) {
    assert.ok(Number.isNaN(parseInstant(s)), JSON.stringify(s));
  }
  assert.equal(parseInstant('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  assert.equal(parseInstant('2025-07-21T18:12:03+09:00'), parseInstant('2025-07-21T09:12:03Z'));
  // Fraction digits past the millisecond are truncated, as V8 does, whatever their number.
  assert.equal(parseInstant('2025-07-21T09:12:03.1239999Z'), Date.UTC(2025, 6, 21, 9, 12, 3, 123));
  assert.equal(parseInstant('2025-07-21T09:12:03.5Z'), Date.UTC(2025, 6, 21, 9, 12, 3, 500));
  // Past 9 digits V8 skips leading zeros and then scales by the length (it gives 1 ms here): not copied.
  assert.equal(parseInstant('2025-07-21T09:12:03.0001000000Z'), Date.UTC(2025, 6, 21, 9, 12, 3, 0));
  assert.equal(parseInstant('2025-07-21T09:12:03.0999999999999Z'), Date.UTC(2025, 6, 21, 9, 12, 3, 99));
});

test('an event "t" without a timezone is refused with file:line, field "t" and an example', () => {
  const dir = sliceWith([eventLine('e1', '2025-07-21T09:12:02Z'), eventLine('e2', '2025-07-21T09:12:03')]);
  const s = Slice.open(dir);
  rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field: 't' }, /timezone.*Z.*2025-07-21T09:12:03Z/s);
  s.close();
  const free = sliceWith([eventLine('e1', 'July 21, 2025 08:00')]);
  const s2 = Slice.open(free);
  rejects(() => s2.readEvent(1), { file: 'events.jsonl', line: 1, field: 't' }, /timezone/);
  s2.close();
});

test('featureTimes values must be timestamps with a timezone (file:line:featureTimes.NAME)', () => {
  const dir = sliceWith([eventLine('e1', '2025-07-21T09:12:03Z', { featureTimes: { ctr: '2025-07-21T08:00:00Z', age: '2025-07-21T08:00:00' } })]);
  const s = Slice.open(dir);
  rejects(() => s.readEvent(1), { file: 'events.jsonl', line: 1, field: 'featureTimes.age' }, /timezone/);
  s.close();
  const feb30 = sliceWith([eventLine('e1', '2025-07-21T09:12:03Z', { featureTimes: { ctr: '2025-02-30T08:00:00Z' } })]);
  const s2 = Slice.open(feb30);
  rejects(() => s2.readEvent(1), { file: 'events.jsonl', line: 1, field: 'featureTimes.ctr' }, /timestamp/);
  s2.close();
});

test('item availability windows must be timestamps with a timezone: refused at open with items.jsonl:line', () => {
  const items = ['{"id":"a"}', '', '{"id":"b","available":[{"from":"2025-07-21T00:00:00Z"},{"from":"2025-07-21T00:00:00Z","to":"2025-07-22T00:00"}]}'].join('\n') + '\n';
  const dir = sliceWith([eventLine('e1', '2025-07-21T09:12:03Z')], items);
  rejects(() => Slice.open(dir), { file: 'items.jsonl', line: 3, field: 'available[1].to' }, /timezone/);
  const notArray = sliceWith([eventLine('e1', '2025-07-21T09:12:03Z')], '{"id":"b","available":{"from":"2025-07-21T00:00:00Z"}}\n');
  rejects(() => Slice.open(notArray), { file: 'items.jsonl', line: 1, field: 'available' }, /array/);
});

test('manifest times must be real dates: clock.start on Feb 30 is refused with the field', () => {
  const dir = rawSlice(eventLine('e1', '2025-07-21T09:12:03Z') + '\n', (m) => {
    m.clock.start = '2025-02-30T00:00:00Z';
  });
  rejects(() => Slice.open(dir), { file: 'slice.json', field: 'clock.start' }, /clock\.start/);
});

/** Runs test/slice/tzChild.ts on a slice with TZ set, before anything in the child has used Date. */
function replayIn(tz: string, dir: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'tzChild.ts'), dir], { encoding: 'utf8', env: { ...process.env, TZ: tz } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('determinism: a slice with offset timestamps replays identically under TZ=UTC and TZ=Asia/Tokyo; a zone-less one is refused in both', () => {
  // b is available from 00:00:30Z to 00:01:30Z, written in two other offsets; ctr was computed at 23:59:00Z.
  const items = '{"id":"a"}\n{"id":"b","available":[{"from":"2025-07-21T09:00:30+09:00","to":"2025-07-20T19:01:30-05:00"}]}\n';
  const pipeline = { k: 2, budgetMs: 1000, staleAfterSec: 90 };
  const times = { ctr: '2025-07-20T23:59:00Z' };
  const withOffsets = sliceWith(
    ['09:00:00', '09:01:00', '09:02:00'].map((hms, i) => eventLine(`e${i + 1}`, `2025-07-21T${hms}+09:00`, { featureTimes: times })),
    items,
    pipeline,
  );
  const utc = replayIn('UTC', withOffsets);
  const tokyo = replayIn('Asia/Tokyo', withOffsets);
  assert.equal(utc['tzOffsetMin'], 0);
  assert.equal(tokyo['tzOffsetMin'], -540, 'the child really ran in Tokyo time');
  assert.equal(utc['traceSha256'], tokyo['traceSha256']);
  assert.deepEqual(utc['events'], tokyo['events']);
  assert.deepEqual(utc['events'], [
    { id: 'e1', dropped: ['b'], stale: [] },
    { id: 'e2', dropped: [], stale: ['ctr'] },
    { id: 'e3', dropped: ['b'], stale: ['ctr'] },
  ]);

  // The same slice with a zone-less "t" (mixed with Z feature times, as logs often are) would read
  // each machine's local time: it is refused, the same way in both.
  const zoneless = sliceWith(
    ['09:00:00', '09:01:00'].map((hms, i) => eventLine(`e${i + 1}`, `2025-07-21T${hms}`, { featureTimes: { ctr: '2025-07-21T08:59:00Z' } })),
    items,
    pipeline,
  );
  const a = replayIn('UTC', zoneless);
  const b = replayIn('Asia/Tokyo', zoneless);
  assert.deepEqual({ ...a, tzOffsetMin: 0 }, { ...b, tzOffsetMin: 0 });
  assert.match(String(a['error']), /timezone/);
  assert.deepEqual({ ...(a['where'] as object), file: undefined }, { file: undefined, line: 1, field: 't' });
  assert.ok(String((a['where'] as { file: string }).file).endsWith('events.jsonl'));
});
