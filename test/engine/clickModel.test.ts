import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplayState } from '../../src/core/engine/state';
import { runHeadless } from '../../src/core/engine/run';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord, ItemRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, tmp } from '../helpers';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 't', host: 't', cwd: process.cwd() };

test('the click model\'s attractiveness is what the recording shows of an item, smoothed towards the recording as a whole, itself towards 1/20 (a hand-computed case)', () => {
  const items: ItemRecord[] = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  const st = new ReplayState(items);
  const [a, b, c] = [st.slot('a'), st.slot('b'), st.slot('c')];
  // Nothing recorded yet: 1/20 for every item, as the fixed prior was.
  assert.equal(st.attractiveness(a), 1 / 20);
  // The recording served a at position 1 (clicked) and b at position 2: examination 1 and 1/log2(3).
  st.recordLogged([a, b], [true, false]);
  const eb = 1 / Math.log2(3);
  const prior = (1 + 1) / (1 + eb + 20);
  assert.equal(st.attractiveness(a), (1 + 20 * prior) / (1 + 20));
  assert.equal(st.attractiveness(b), (0 + 20 * prior) / (eb + 20));
  // An item never recorded takes the recording's as a whole.
  assert.equal(st.attractiveness(c), prior);
  // Kept by a checkpoint: the restored state reads the same.
  const back = ReplayState.restore(items, st.save());
  for (const s of [a, b, c]) assert.equal(back.attractiveness(s), st.attractiveness(s));
});

/**
 * A log of `n` one-item slates over 40 items with a click-through rate of 1% (every 100th event
 * clicked), where the replay's ranker serves what the log never did: every click is the model's.
 */
function lowCtrSlice(n: number): string {
  const items: ItemRecord[] = Array.from({ length: 40 }, (_, i) => ({ id: `i${i}` }));
  const events: EventRecord[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  for (let e = 1; e <= n; e++) {
    // The logged item is among the first 20; the replay's ranker prefers the last 20 (feature x).
    const shown = `i${e % 20}`;
    const other = `i${20 + (e % 20)}`;
    events.push({
      id: `e${e}`,
      t: new Date(t0 + e * 1000).toISOString(),
      user: 'u',
      candidates: [
        { item: shown, features: { x: 0 }, score: 1 },
        { item: other, features: { x: 1 }, score: 0 },
      ],
      served: [shown],
      outcome: { clicks: e % 100 === 0 ? [shown] : [] },
    });
  }
  const dir = join(tmp(), 'low.slice');
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: 1, budgetMs: 100 } }, events, items }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return dir;
}

test('replayed clicks follow the log\'s click-through rate whatever the seed: a 1% log reads about 1%, not 5% (a fixed prior of 1/20) nor what simulated clicks fed back into (a random walk: 0.3% or 9% by the seed)', async () => {
  const dir = lowCtrSlice(4000);
  const ranker = join(tmp(), 'x.json');
  (await import('node:fs')).writeFileSync(ranker, JSON.stringify({ weights: { x: 1 }, bias: 0 }));
  const ctrs: number[] = [];
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = await runHeadless({ slice: dir, ranker: `linear:${ranker}`, seed }, HOST);
    r.replayer.dispose();
    ctrs.push(r.metrics['ctr'] as number);
  }
  // 4,000 draws near 1%: about 40 clicks each, so a few tenths of a percent of spread.
  for (const ctr of ctrs) assert.ok(ctr > 0.005 && ctr < 0.02, `ctr ${ctr} (all: ${ctrs.join(', ')})`);
});
