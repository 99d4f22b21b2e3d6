import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replayer, checkpointBytesOf, defaultCheckpointEvery } from '../../src/core/engine/replay';
import { CheckpointStore } from '../../src/core/engine/checkpoints';
import { Slice } from '../../src/core/slice/reader';
import { loadRanker } from '../../src/core/rankers';
import { makeSlice, tmp } from '../helpers';
import { join } from 'node:path';

test('the checkpoint interval widens where a slice\'s checkpoints would not fit the spill budget, and seeks stay exact', async () => {
  const dir = makeSlice(300);
  const was = Replayer.spillBudget;
  // 300 events × one checkpoint's bytes (30 items) over a budget of 3 checkpoints: one every 100 events.
  Replayer.spillBudget = 3 * checkpointBytesOf(30);
  const slice = Slice.open(dir);
  const widened = new Replayer(slice, { ranker: loadRanker('popularity', { slice }), checkpointEvery: 10, spillDir: tmp() });
  Replayer.spillBudget = was;
  const straight = new Replayer(Slice.open(dir), { ranker: loadRanker('popularity', { slice }), checkpointEvery: 10, spillDir: tmp() });
  try {
    assert.equal(widened.checkpointEvery, 100);
    assert.equal(straight.checkpointEvery, 10, 'within the budget the interval is the one asked for');
    await widened.runToEnd();
    for (const n of [250, 7, 101, 300, 1, 199]) {
      await widened.seek(n, 6);
      await straight.seek(n, 6);
      assert.deepEqual(widened.metrics.snapshot(), straight.metrics.snapshot(), `metrics at event ${n}`);
      assert.deepEqual(widened.current?.ranked, straight.current?.ranked, `ranking at event ${n}`);
    }
  } finally {
    widened.dispose();
    straight.dispose();
  }
});

test('checkpoints kept in memory (no spill folder) are thinned past their budget, and the nearest one is still found', () => {
  const was = CheckpointStore.memoryBudget;
  CheckpointStore.memoryBudget = 10_000;
  // A spill root that does not exist: checkpoints stay in memory.
  const store = new CheckpointStore(join(tmp(), 'missing'));
  try {
    for (let n = 1; n <= 1001; n += 10) store.put(n, { n, a: new Float64Array(100) });
    const kept = [...Array(1001).keys()].filter((i) => store.has(i + 1)).length;
    assert.ok(kept < 20, `${kept} of 101 kept`);
    assert.ok(store.has(1), 'the first stays');
    const near = store.nearest(555);
    assert.ok(near && near.n <= 555);
    assert.equal((near.data as { n: number }).n, near.n);
  } finally {
    CheckpointStore.memoryBudget = was;
    store.dispose();
  }
});

test('without an interval asked for, large events get checkpoints more often (a step back re-executes ~1.6 MB of events at most)', () => {
  const small = Slice.open(makeSlice(50));
  const index = (bytesPerEvent: number) => ({ eventCount: 100, index: { offsets: Float64Array.from({ length: 101 }, (_, i) => i * bytesPerEvent) } }) as unknown as Slice;
  try {
    assert.equal(defaultCheckpointEvery(small), 500);
    assert.equal(defaultCheckpointEvery(index(3200)), 500);
    assert.equal(defaultCheckpointEvery(index(20_000)), 80);
    assert.equal(defaultCheckpointEvery(index(5_000_000)), 1);
    const r = new Replayer(small, { ranker: loadRanker('recorded', { slice: small }), spillDir: tmp() });
    assert.equal(r.checkpointEvery, 500);
    r.dispose();
  } finally {
    small.close();
  }
});
