import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { EventCursor, MAX_LINE_BYTES, lineTooLong } from '../../src/core/slice/cursor';
import { writeSlice } from '../../src/core/slice/writer';
import { UserError } from '../../src/core/errors';
import { BASE_MANIFEST, eventLine, fixture, rawSlice, tmp } from '../helpers';

// An events.jsonl line longer than EventCursor.maxLineBytes is refused at its line, as soon as
// its bytes so far pass the limit: before, a line over V8's longest string (~512 MB) ended in
// "Cannot create a string longer than 0x1fffffe8 characters", an internal error, after GBs of copying.

/** Runs fn with the line limit lowered to `limit` bytes (and the reader thread starting early). */
function withLimit<T>(limit: number, fn: () => T): T {
  const [was, wasAfter] = [EventCursor.maxLineBytes, Slice.prefetchAfterBlocks];
  EventCursor.maxLineBytes = limit;
  Slice.prefetchAfterBlocks = 1;
  try {
    return fn();
  } finally {
    EventCursor.maxLineBytes = was;
    Slice.prefetchAfterBlocks = wasAfter;
  }
}

/** Reading events from..to throws a UserError at events.jsonl:line that names the limit. */
function refusesLine(dir: string, line: number, limit: number, range: [number, number?] = [1]): UserError {
  const s = Slice.open(dir);
  try {
    let caught: unknown;
    assert.throws(
      () => withLimit(limit, () => [...s.events(range[0], range[1], { readAhead: 'eager' })]),
      (e: unknown) => {
        caught = e;
        return true;
      },
    );
    const e = caught as UserError;
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.where.file, join(dir, 'events.jsonl'));
    assert.equal(e.where.line, line);
    assert.equal(e.code, 'E_LINE_TOO_LONG');
    assert.match(e.message, new RegExp(`over the limit of ${limit} bytes per event`));
    assert.match(e.hint ?? '', /split or trim it, then re-freeze the slice/);
    // The same events read without the lowered limit: the line is fine.
    assert.equal([...s.events(range[0], range[1])].length, (range[1] ?? s.eventCount) - range[0] + 1);
    return e;
  } finally {
    s.close();
  }
}

test('the limit is 256 MiB, and the error says so', () => {
  assert.equal(MAX_LINE_BYTES, 256 * 1024 * 1024);
  assert.equal(EventCursor.maxLineBytes, MAX_LINE_BYTES);
  const e = lineTooLong('/s/events.jsonl', 12, 300_000_000);
  assert.match(e.describe(), /^\/s\/events\.jsonl:12: the line is longer than recreplay reads: at least 300000000 bytes, over the limit of 256 MiB per event\n {2}One line of events\.jsonl holds one event, of at most 256 MiB\./);
});

test('a line spanning many blocks is refused as it grows, before all of it is read (1 KiB chunks, reader thread)', () => {
  const f = fixture(40);
  const long = f.events[19] as (typeof f.events)[number];
  (long.candidates[0] as { features: Record<string, unknown> }).features['blob'] = 'xé😀'.repeat(3_000);
  const dir = join(tmp(), 'long.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 1024 });
  const e = refusesLine(dir, 20, 4000);
  // Found when its bytes so far passed 4,000: at most a block (1 KiB) more, not the 21 KB of the line.
  const bytes = Number(/at least (\d+) bytes/.exec(e.message)?.[1]);
  assert.ok(bytes > 4000 && bytes <= 4000 + 1024, String(bytes));
  // A read that starts after it or ends before it never sees it.
  withLimit(4000, () => {
    const s = Slice.open(dir);
    try {
      assert.equal([...s.events(1, 19)].length, 19);
      assert.equal([...s.events(21, 40, { readAhead: 'eager' })].length, 20);
    } finally {
      s.close();
    }
  });
  refusesLine(dir, 20, 4000, [15, 25]);
  // Under the limit, the line put together from its blocks (characters split between them) is whole.
  const s = Slice.open(dir);
  try {
    for (const readAhead of ['eager', 'auto'] as const) {
      const read = [...s.events(1, 40, { readAhead })];
      assert.deepEqual(read[19]?.candidates[0]?.features?.['blob'], 'xé😀'.repeat(3_000));
      assert.deepEqual(read.map((e) => e.id), f.events.map((e) => e.id));
    }
  } finally {
    s.close();
  }
});

test('a long first, middle or last line within one block is refused at its line', () => {
  const short = (id: string) => eventLine(id, '2025-01-01T00:00:00Z');
  const long = (id: string) => eventLine(id, '2025-01-01T00:00:00Z', { context: { blob: 'y'.repeat(3000) } });
  // The first line of a block, a line inside it, the last line without a line break.
  refusesLine(rawSlice(`${long('e1')}\n${short('e2')}\n${short('e3')}\n`), 1, 2000);
  refusesLine(rawSlice(`${short('e1')}\n${long('e2')}\n${short('e3')}\n`), 2, 2000);
  refusesLine(rawSlice(`${short('e1')}\n${short('e2')}\n${long('e3')}`), 3, 2000);
  refusesLine(rawSlice(`${short('e1')}\n${short('e2')}\n${long('e3')}`), 3, 2000, [2, 3]);
  // A read that stops before the long last line does not read it.
  const dir = rawSlice(`${short('e1')}\n${short('e2')}\n${long('e3')}`);
  const s = Slice.open(dir);
  try {
    assert.equal(withLimit(2000, () => [...s.events(1, 2)]).length, 2);
  } finally {
    s.close();
  }
});

test('reading one event (readEvent, the editor and debugger path) refuses a too-long line as a replay does, before reading it', () => {
  const f = fixture(40);
  ((f.events[19] as { candidates: { features?: Record<string, unknown> }[] }).candidates[0] as { features: Record<string, unknown> }).features['blob'] = 'x'.repeat(20_000);
  const dir = join(tmp(), 'one.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 1024 });
  const s = Slice.open(dir);
  try {
    withLimit(4000, () => {
      for (const read of [() => s.readEvent(20), () => s.readEventText(20)]) {
        assert.throws(read, (e: unknown) => e instanceof UserError && e.code === 'E_LINE_TOO_LONG' && e.where.line === 20 && /at least 2\d{4} bytes/.test(e.message));
      }
      assert.equal(s.readEvent(19).id, 'e19', 'the lines around it read as usual');
    });
    assert.equal(s.readEvent(20).id, 'e20');
  } finally {
    s.close();
  }
});
