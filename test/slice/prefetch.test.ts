import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Slice } from '../../src/core/slice/reader';
import { BlockPrefetcher } from '../../src/core/slice/prefetch';
import { EventCursor } from '../../src/core/slice/cursor';
import { IntegrityError } from '../../src/core/errors';
import { makeSlice, tmp, withPrefetchAfter } from '../helpers';

/** Every event of the slice, read on the engine thread alone. */
function readPlain(dir: string) {
  return withPrefetchAfter(Infinity, () => {
    const s = Slice.open(dir);
    const all = [...s.events()];
    s.close();
    return all;
  });
}

test('reads through the reader thread equal reads on the engine thread, from any start, across many chunks', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  const plain = readPlain(dir);
  assert.equal(plain.length, 120);
  for (const after of [0, 1, 2]) {
    withPrefetchAfter(after, () => {
      const started = Slice.prefetchesStarted;
      const s = Slice.open(dir);
      assert.deepEqual([...s.events()], plain, `prefetch after ${after} blocks`);
      for (const from of [1, 2, 37, 119]) assert.deepEqual([...s.events(from)], plain.slice(from - 1), `from ${from}`);
      assert.deepEqual([...s.events(10, 90)], plain.slice(9, 90));
      assert.ok(Slice.prefetchesStarted - started >= 5, 'the long reads went through the reader thread');
      s.close();
    });
  }
});

test('a run to the end reads ahead from its second block; a read that stays in its first block starts no reader thread', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  const s = Slice.open(dir);
  const plain = withPrefetchAfter(Infinity, () => [...s.events()]);
  const before = Slice.prefetchesStarted;
  assert.deepEqual([...s.events(1, undefined, { readAhead: 'eager' })], plain);
  assert.equal(Slice.prefetchesStarted, before + 1);
  // A short read (within two blocks) in the default mode starts no reader thread.
  const short = s.events(1);
  short.next();
  short.next();
  short.return(undefined);
  assert.equal(Slice.prefetchesStarted, before + 1);
  s.close();
});

test('opened with readAhead, the reader thread starts at once and the first whole read takes it over from the first block', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  const plain = readPlain(dir);
  const before = Slice.prefetchesStarted;
  const s = Slice.open(dir, { readAhead: true });
  assert.equal(Slice.prefetchesStarted, before + 1, 'started while the slice opened');
  // The whole read (what a run to the end asks for) uses it: no second reader thread.
  assert.deepEqual([...s.events(1, undefined, { readAhead: 'eager' })], plain);
  assert.equal(Slice.prefetchesStarted, before + 1);
  s.close();
  // Any other first read stops it and reads as usual; so does closing the slice unread.
  const other = Slice.open(dir, { readAhead: true });
  assert.deepEqual([...other.events(40, 60)], plain.slice(39, 60));
  assert.deepEqual([...other.events()], plain);
  other.close();
  Slice.open(dir, { readAhead: true }).close();
  // A slice of two blocks or fewer starts none.
  const small = makeSlice(5, { chunkSize: 1 << 20 });
  const was = Slice.prefetchesStarted;
  const t = Slice.open(small, { readAhead: true });
  assert.equal([...t.events()].length, 5);
  assert.equal(Slice.prefetchesStarted, was);
  t.close();
});

test('opened with readAhead, a changed first chunk is still caught (and replayed when forced)', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  const p = join(dir, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  const at = text.indexOf('"ctr":0.');
  assert.ok(at > 0 && at < 1024);
  writeFileSync(p, text.slice(0, at + 8) + (text[at + 8] === '1' ? '2' : '1') + text.slice(at + 9));
  const s = Slice.open(dir, { readAhead: true });
  assert.throws(() => [...s.events()], (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'));
  s.close();
  const forced = Slice.open(dir, { readAhead: true, force: true });
  assert.equal([...forced.events()].length, 120);
  assert.ok(forced.modified.has('events.jsonl'));
  forced.close();
});

test('a chunk changed on disk is caught by the reader thread and not replayed unless forced', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  const p = join(dir, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  // Same length, one digit changed in the middle of the file.
  const at = text.indexOf('"ctr":0.', text.length >> 1);
  writeFileSync(p, text.slice(0, at + 8) + (text[at + 8] === '1' ? '2' : '1') + text.slice(at + 9));
  withPrefetchAfter(0, () => {
    const s = Slice.open(dir);
    let read = 0;
    assert.throws(
      () => {
        for (const _ of s.events()) read++;
      },
      (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'),
    );
    assert.ok(read > 0 && read < 120, `events before the changed chunk are read (${read})`);
    s.close();
    const forced = Slice.open(dir, { force: true });
    assert.equal([...forced.events()].length, 120);
    assert.ok(forced.modified.has('events.jsonl'));
    forced.close();
  });
});

test('an abandoned read stops its reader thread; the slice reads on afterwards', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  withPrefetchAfter(0, () => {
    const s = Slice.open(dir);
    const it = s.events(3);
    assert.equal(it.next().value?.id, 'e3');
    assert.equal(it.next().value?.id, 'e4');
    it.return(undefined);
    assert.equal(it.next().done, true);
    // A second read and a close with a read still open: neither hangs.
    const again = s.events(100);
    assert.equal(again.next().value?.id, 'e100');
    s.close();
  });
});

test('the reader thread reports a file it cannot read, naming it', () => {
  const missing = join(tmp(), 'gone.jsonl');
  const p = new BlockPrefetcher(missing, { blockSize: 1024, from: 0, end: 4096, hashes: [null, null, null, null] });
  assert.throws(() => p.next(), (e: unknown) => e instanceof Error && e.message.includes(missing) && /ENOENT|no such file/.test(e.message));
  p.close();
});

test('blocks come in file order with their hash verdicts, and the ring is reused', () => {
  const p0 = join(tmp(), 'blocks.bin');
  const data = Buffer.alloc(10 * 100);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  writeFileSync(p0, data);
  const hashes = Array.from({ length: 10 }, (_, b) => (b === 4 ? '0'.repeat(64) : b % 2 ? null : createHash('sha256').update(data.subarray(b * 100, b * 100 + 100)).digest('hex')));
  const p = new BlockPrefetcher(p0, { blockSize: 100, from: 0, end: data.length, hashes, slots: 2 });
  const seen: Buffer[] = [];
  const verdicts: number[] = [];
  for (let b = p.next(); b; b = p.next()) {
    seen.push(Buffer.from(b.data));
    verdicts.push(b.verdict);
  }
  assert.deepEqual(Buffer.concat(seen), data);
  assert.deepEqual(verdicts, [1, 3, 1, 3, 2, 3, 1, 3, 1, 3]);
  p.close();
});

test('a read whose slice was closed under it fails clearly instead of yielding a cut line', () => {
  const dir = makeSlice(120, { chunkSize: 1024 });
  withPrefetchAfter(0, () => {
    const s = Slice.open(dir);
    const it = s.events();
    assert.equal(it.next().value?.id, 'e1');
    s.close();
    assert.throws(
      () => {
        for (let r = it.next(); !r.done; r = it.next());
      },
      /stopped: the slice was closed/,
    );
  });
});

test('closed in the middle of a block shared with the reader thread, a read fails at the next piece', () => {
  const dir = makeSlice(200, { chunkSize: 4096 });
  const was = EventCursor.pieceSize;
  EventCursor.pieceSize = 256;
  try {
    withPrefetchAfter(1, () => {
      const s = Slice.open(dir);
      const started = Slice.prefetchesStarted;
      const it = s.events();
      // Past the first blocks: these come from the reader thread, in pieces of a few events.
      for (let i = 0; i < 40; i++) assert.equal(it.next().done, false);
      assert.equal(Slice.prefetchesStarted, started + 1);
      s.close();
      assert.throws(
        () => {
          for (let r = it.next(); !r.done; r = it.next());
        },
        /stopped: the slice was closed/,
      );
    });
  } finally {
    EventCursor.pieceSize = was;
  }
});

test('a reader thread that dies while it holds a piece is an error after the stall limit, never a hang', async () => {
  const dir = makeSlice(60, { chunkSize: 1024 });
  const file = join(dir, 'events.jsonl');
  const was = BlockPrefetcher.stallWaits;
  BlockPrefetcher.stallWaits = 2;
  const p = new BlockPrefetcher(file, { blockSize: 1024, from: 0, end: 4096, hashes: [null, null, null, null], digest: true, pieceSize: 128 });
  try {
    const b = p.next();
    assert.ok(b);
    // The reader thread is killed; a piece it had claimed (flag 2) never arrives.
    const internals = p as unknown as { worker: { terminate(): Promise<number> }; st: Int32Array; slots: number; maxPieces: number; held: number; i: number; stash: Map<number, unknown>; receive(): void };
    await internals.worker.terminate();
    const flags = 3 * internals.slots + 3 + internals.held * internals.maxPieces;
    const k = 0;
    // Whatever the thread managed to post before it died (on a loaded machine it may have digested
    // the whole block) is taken and piece k's message dropped: claimed (flag 2), it never arrives.
    internals.receive();
    internals.stash.delete((internals.i - 1) * internals.maxPieces + k);
    Atomics.store(internals.st, flags + k, 2);
    const t0 = Date.now();
    assert.throws(() => p.piece(k), /stopped responding/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    BlockPrefetcher.stallWaits = was;
    p.close();
  }
});
