import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Slice } from '../../src/core/slice/reader';
import { runHeadless } from '../../src/core/engine/run';
import { firstBadUtf8 } from '../../src/core/slice/utf8';
import type { SliceManifest } from '../../src/core/slice/types';
import { caught, makeSlice, withPrefetchAfter } from '../helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Puts byte 0xE9 (a Latin-1 "é") in place of the first letter of event n's user id, and seals the slice again (hashes as a producer would write them). */
function latin1In(dir: string, file: 'events.jsonl' | 'items.jsonl' | 'users.jsonl', n: number, at = '"u'): void {
  const p = join(dir, file);
  const b = readFileSync(p);
  let s = 0;
  for (let i = 1; i < n; i++) s = b.indexOf(10, s) + 1;
  const hit = b.indexOf(at, s);
  assert.ok(hit >= 0 && hit < b.indexOf(10, s), `no ${at} on line ${n}`);
  b[hit + 1] = 0xe9;
  writeFileSync(p, b);
  const mPath = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(mPath, 'utf8')) as SliceManifest;
  for (const f of m.files) {
    const bytes = readFileSync(join(dir, f.path));
    f.sha256 = sha(bytes);
    if (f.chunks) f.chunks.sha256 = Array.from({ length: Math.ceil(bytes.length / f.chunks.size) }, (_, c) => sha(bytes.subarray(c * f.chunks!.size, (c + 1) * f.chunks!.size)));
  }
  writeFileSync(mPath, JSON.stringify(m, null, 2));
}

function isNotUtf8(e: ReturnType<typeof caught>, file: string, line: number, column?: number): void {
  assert.ok(e.where.file?.endsWith(file), e.where.file);
  assert.equal(e.where.line, line);
  if (column !== undefined) assert.equal(e.where.column, column);
  assert.match(e.message, /the line is not valid UTF-8: byte 0xE9 at column \d+ does not start or continue a UTF-8 character/);
  assert.match(e.hint ?? '', /iconv -f latin1 -t utf-8/);
}

test('firstBadUtf8 finds a bad byte exactly where Node\'s own check says the bytes are not UTF-8, and the bytes before it are', () => {
  // Bytes biased towards the tricky ranges: lead bytes, continuation bytes, overlongs, surrogates.
  const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.constantFrom(0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff));
  const text = fc.string({ unit: 'binary' }).map((s) => [...Buffer.from(s, 'utf8')]);
  fc.assert(
    fc.property(fc.array(fc.oneof(byte.map((b) => [b]), text)), (parts) => {
      const b = Uint8Array.from(parts.flat());
      const at = firstBadUtf8(b);
      assert.equal(at === -1, isUtf8(b));
      if (at >= 0) assert.ok(isUtf8(b.subarray(0, at)), 'the bytes before the bad one are UTF-8');
    }),
    { numRuns: 2000 },
  );
});

test('an event line that is not UTF-8 is refused with its line, read in order, read alone, or digested by the reader thread', async () => {
  const dir = makeSlice(3000, { chunkSize: 4096 });
  latin1In(dir, 'events.jsonl', 2500);
  const s = Slice.open(dir);
  try {
    isNotUtf8(caught(() => s.readEvent(2500)), 'events.jsonl', 2500);
    assert.equal(s.readEvent(2499).id, 'e2499');
    // In order on this thread…
    isNotUtf8(caught(() => withPrefetchAfter(1_000_000, () => [...s.events()])), 'events.jsonl', 2500);
  } finally {
    s.close();
  }
  // …and with the reader thread digesting the blocks (the line goes over raw, and fails here).
  const started = Slice.prefetchesStarted;
  const r = runHeadless({ slice: dir, ranker: 'recorded' }, { now: () => '2025-01-01T00:00:00Z', user: 'u', host: 'h', cwd: process.cwd() });
  await assert.rejects(r, (e: unknown) => {
    isNotUtf8(e as ReturnType<typeof caught>, 'events.jsonl', 2500);
    return true;
  });
  assert.ok(Slice.prefetchesStarted > started, 'the reader thread read the slice');
});

test('an item or user line that is not UTF-8 is refused at open with the file, line and column', () => {
  const dir = makeSlice(20);
  latin1In(dir, 'users.jsonl', 3, '"u');
  isNotUtf8(caught(() => Slice.open(dir)), 'users.jsonl', 3, 8);
  const dir2 = makeSlice(20);
  latin1In(dir2, 'items.jsonl', 2, '"i');
  isNotUtf8(caught(() => Slice.open(dir2)), 'items.jsonl', 2);
});

test('a slice.json that is not UTF-8 is refused with its line and column', () => {
  const dir = makeSlice(5);
  const p = join(dir, 'slice.json');
  const b = readFileSync(p);
  const at = b.indexOf('test slice');
  b[at] = 0xe9;
  writeFileSync(p, b);
  const e = caught(() => Slice.open(dir));
  assert.ok(e.where.file?.endsWith('slice.json'));
  const before = b.subarray(0, at).toString('utf8').split('\n');
  assert.equal(e.where.line, before.length);
  assert.equal(e.where.column, (before[before.length - 1] as string).length + 1);
  assert.match(e.message, /not valid UTF-8/);
});
