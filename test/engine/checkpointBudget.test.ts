import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replayer, checkpointBytesOf, defaultCheckpointEvery } from '../../src/core/engine/replay';
import { CheckpointStore } from '../../src/core/engine/checkpoints';
import { Slice } from '../../src/core/slice/reader';
import { loadRanker } from '../../src/core/rankers';
import { makeSlice, tmp } from '../helpers';
import { writeSlice } from '../../src/core/slice/writer';
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

test('checkpoints kept in memory, thinned and taken again as steps back re-execute, do not widen the interval: their bytes count once', async () => {
  const dir = makeSlice(400);
  const budget = Replayer.spillBudget;
  const memory = CheckpointStore.memoryBudget;
  // Room for the replay's checkpoints at every 5 events (about 9 KB each, 80 of them), not for each counted many times.
  Replayer.spillBudget = 3_000_000;
  CheckpointStore.memoryBudget = 60_000;
  const slice = Slice.open(dir);
  const r = new Replayer(slice, { ranker: loadRanker('popularity', { slice }), checkpointEvery: 5, spillDir: join(tmp(), 'missing') });
  Replayer.spillBudget = budget;
  try {
    await r.runToEnd();
    assert.equal(r.checkpointEvery, 5);
    // Steps back over the whole slice, again and again: each re-executes through checkpoints the thinning dropped.
    for (let pass = 0; pass < 8; pass++) for (let n = 400; n >= 1; n -= 3) await r.seek(n, 6);
    assert.equal(r.checkpointEvery, 5, 'the interval stays the one the replay\'s checkpoints fit in');
  } finally {
    CheckpointStore.memoryBudget = memory;
    Replayer.spillBudget = budget;
    r.dispose();
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

test('items outside the catalogue piling up widen the interval as checkpoints grow (the grid only gets coarser), and seeks stay exact', async () => {
  const dir = join(tmp(), 'nocat.slice');
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  const events = Array.from({ length: 400 }, (_, e) => {
    const candidates = Array.from({ length: 8 }, (_, c) => ({ item: `e${e}_c${c}`, features: { x: c }, score: (8 - c) / 8 }));
    return { id: `e${e + 1}`, t: new Date(t0 + e * 1000).toISOString(), user: 'u', candidates, served: candidates.slice(0, 3).map((c) => c.item), outcome: { clicks: [] } };
  });
  writeSlice(dir, { manifest: { name: 'nocat', description: 'no catalogue', source: { kind: 'synthetic' }, seed: 1, pipeline: { k: 3, budgetMs: 100 } }, events, items: [], users: [] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const was = Replayer.spillBudget;
  // (All checkpoints at every 5 events: ~4.3 MB.)
  Replayer.spillBudget = 2_000_000;
  const slice = Slice.open(dir);
  const widened = new Replayer(slice, { ranker: loadRanker('popularity', { slice }), checkpointEvery: 5, spillDir: tmp() });
  Replayer.spillBudget = was;
  const straight = new Replayer(Slice.open(dir), { ranker: loadRanker('popularity', { slice }), checkpointEvery: 5, spillDir: tmp() });
  try {
    const first = widened.checkpointEvery;
    await widened.runToEnd();
    await straight.runToEnd();
    assert.ok(widened.checkpointEvery > first && Number.isInteger(Math.log2(widened.checkpointEvery / first)), `widened by doubling from ${first} to ${widened.checkpointEvery}`);
    const spilled = (r: Replayer) => (r as unknown as { spilled: number }).spilled;
    assert.ok(spilled(widened) < 2 * 2_000_000 && spilled(widened) < spilled(straight) / 1.5, `${spilled(widened)} bytes against ${spilled(straight)}`);
    assert.equal(straight.checkpointEvery, 5);
    for (const n of [397, 12, 206, 1, 350, 51]) {
      await widened.seek(n, 4);
      await straight.seek(n, 4);
      assert.deepEqual(widened.metrics.snapshot(), straight.metrics.snapshot(), `metrics at event ${n}`);
      assert.deepEqual(widened.current?.ranked, straight.current?.ranked, `ranking at event ${n}`);
      assert.deepEqual([...widened.state.impressions.subarray(0, widened.state.ids.length)], [...straight.state.impressions.subarray(0, straight.state.ids.length)]);
    }
  } finally {
    widened.dispose();
    straight.dispose();
  }
});
