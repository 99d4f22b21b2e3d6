// A seek re-executes a few hundred events through a cursor of its own: each cursor allocated a
// block buffer of the chunk size (8 MiB in a frozen slice), so 100 seeks at a million events left
// ~50 MB of garbage that the process's RSS carried (the bench's peak). A closed cursor's buffer
// now serves the next cursor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slice } from '../../src/core/slice/reader';
import { makeSlice } from '../helpers';

test('short reads one after another share one block buffer; reads at once each have their own, and read the same events', () => {
  const slice = Slice.open(makeSlice(40));
  const blockSize = (slice as unknown as { cursorHost: { blockSize: number } }).cursorHost.blockSize;
  const alloc = Buffer.allocUnsafe;
  let blocks = 0;
  Buffer.allocUnsafe = ((size: number) => {
    if (size === blockSize) blocks++;
    return alloc(size);
  }) as typeof Buffer.allocUnsafe;
  try {
    const ids = (from: number, to: number) => [...slice.events(from, to)].map((e) => e.id);
    const all = ids(1, 40);
    for (let i = 0; i < 20; i++) assert.deepEqual(ids(1 + i, 10 + i), all.slice(i, 10 + i));
    assert.equal(blocks, 1, 'one block buffer for every read in turn');
    // Two reads at once (compare mode's lanes): the second gets a buffer of its own, and neither reads the other's bytes.
    const a = slice.events(1, 40);
    const b = slice.events(21, 40);
    const got: [string, string][] = [];
    for (let i = 0; i < 20; i++) got.push([(a.next().value as { id: string }).id, (b.next().value as { id: string }).id]);
    a.return(undefined);
    b.return(undefined);
    assert.deepEqual(got, all.slice(0, 20).map((x, i) => [x, all[20 + i] as string]));
    assert.equal(blocks, 2);
  } finally {
    Buffer.allocUnsafe = alloc;
    slice.close();
  }
});
