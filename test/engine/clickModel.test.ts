import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplayState } from '../../src/core/engine/state';
import { runHeadless } from '../../src/core/engine/run';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord, ItemRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, tmp } from '../helpers';
import { streamFor } from '../../src/core/random';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 't', host: 't', cwd: process.cwd() };

test('the click model\'s attractiveness is what the recording shows of an item, smoothed towards the recording as a whole, itself towards 1/20 (a hand-computed case)', () => {
  const items: ItemRecord[] = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  const st = new ReplayState(items);
  const [a, b, c] = [st.slot('a'), st.slot('b'), st.slot('c')];
  // Nothing recorded yet: 1/20 for every item, as the fixed prior was.
  assert.equal(st.attractiveness(a), 1 / 20);
  // The recording served a at position 1 (clicked) and b at position 2: examination 1 and 1/log2(3).
  st.recordLogged(['a', 'b'], ['a']);
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

/**
 * A log of two-item slates from a known position-based model: each user finds each item attractive
 * with probability 0.3, examines position 1 always and position 2 with 1/log2(3); a click is both.
 * Feature x is the logged position, so a linear ranker on x serves the logged slate reversed.
 */
function pbmSlice(n: number): string {
  const rng = streamFor(11, 'pbm-test', 'log');
  const items: ItemRecord[] = Array.from({ length: 40 }, (_, i) => ({ id: `i${i}` }));
  const events: EventRecord[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  for (let e = 1; e <= n; e++) {
    const a = `i${rng.int(20)}`;
    const b = `i${20 + rng.int(20)}`;
    const clicks: string[] = [];
    if (rng.next() < 0.3) clicks.push(a);
    if (rng.next() < 0.3 && rng.next() < 1 / Math.log2(3)) clicks.push(b);
    events.push({ id: `e${e}`, t: new Date(t0 + e * 1000).toISOString(), user: `u${e}`, candidates: [{ item: a, features: { x: 0 }, score: 1 }, { item: b, features: { x: 1 }, score: 0 }], served: [a, b], outcome: { clicks } });
  }
  const dir = join(tmp(), 'pbm.slice');
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: 2, budgetMs: 100 } }, events, items }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return dir;
}

test('reordering the logged slate does not change what the click model expects: an item shown and not clicked keeps what that says of it (the reversed slate read +30% CTR when it got the item\'s average)', async () => {
  const dir = pbmSlice(6000);
  const ranker = join(tmp(), 'reverse.json');
  (await import('node:fs')).writeFileSync(ranker, JSON.stringify({ weights: { x: 1 }, bias: 0 }));
  const logged = (await runHeadless({ slice: dir, ranker: 'recorded' }, HOST)).metrics['ctr'] as number;
  const ctrs: number[] = [];
  for (const seed of [1, 2, 3]) {
    const r = await runHeadless({ slice: dir, ranker: `linear:${ranker}`, seed }, HOST);
    r.replayer.dispose();
    ctrs.push(r.metrics['ctr'] as number);
  }
  // The true CTR of the reversed slate is the logged one (each item equally attractive): within noise
  // (12,000 impressions a run: a few percent), not 30% above.
  const mean = ctrs.reduce((x, y) => x + y, 0) / ctrs.length;
  assert.ok(Math.abs(mean / logged - 1) < 0.08, `reversed ${ctrs.join(', ')} vs logged ${logged}`);
});

test('two rankers that serve the same items at positions 2 and 3, and differ at position 1, get the same clicks there (one draw per position, used or not: a draw\'s place depended on how many simulated positions came before it)', async () => {
  const fs = await import('node:fs');
  const rng = streamFor(5, 'crn-test', 'log');
  const items: ItemRecord[] = ['a', 'b', 'c', 'd', 'x', 'y'].map((id) => ({ id }));
  const events: EventRecord[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  for (let e = 1; e <= 1500; e++) {
    const clicks = ['a', 'b', 'c'].filter(() => rng.next() < 0.3);
    const f = (p: number, q: number) => ({ p, q });
    const candidates = [
      { item: 'a', features: f(10, 0) },
      { item: 'b', features: f(0, 0) },
      { item: 'c', features: f(0, 0) },
      { item: 'd', features: f(0, 10) },
      { item: 'x', features: f(5, 5) },
      { item: 'y', features: f(4, 4) },
    ];
    events.push({ id: `e${e}`, t: new Date(t0 + e * 1000).toISOString(), user: `u${e}`, candidates, served: ['a', 'b', 'c'], outcome: { clicks } });
  }
  const dir = join(tmp(), 'crn.slice');
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: 3, budgetMs: 100 } }, events, items }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  // A serves [a, x, y] (a as recorded: no model draw at position 1); B serves [d, x, y].
  const rankers = [{ p: 1 }, { q: 1 }].map((weights, i) => {
    const f = join(tmp(), `r${i}.json`);
    fs.writeFileSync(f, JSON.stringify({ weights, bias: 0 }));
    return f;
  });
  const clicksAt = async (ranker: string) => {
    const traceDir = join(tmp(), 'trace');
    const r = await runHeadless({ slice: dir, ranker: `linear:${ranker}`, traceDir }, HOST);
    r.replayer.dispose();
    return fs.readFileSync(join(traceDir, 'trace.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => {
      const clicks = ((JSON.parse(l) as { stages: { outcome?: { clicks?: string[] } } }).stages.outcome?.clicks ?? []);
      return clicks.filter((c) => c === 'x' || c === 'y').join(',');
    });
  };
  const [a, b] = [await clicksAt(rankers[0] as string), await clicksAt(rankers[1] as string)];
  assert.equal(a.length, 1500);
  assert.ok(a.some((c) => c !== ''), 'x and y are clicked at times');
  assert.deepEqual(a, b);
});
