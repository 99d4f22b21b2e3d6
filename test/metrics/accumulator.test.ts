import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deserialize, serialize } from 'node:v8';
import { MetricsAccumulator, type CatalogEntry, type EventObservation } from '../../src/core/metrics/index.js';
import { STAGES } from '../../src/core/slice/types.js';
import { latency, near, obs } from './helpers.js';

const catalog: CatalogEntry[] = Array.from({ length: 50 }, (_, i) => ({
  id: `i${i}`,
  category: `c${i % 4}`,
  ...(i % 3 === 0 ? { group: `g${i % 2}` } : {}),
}));

test('CTR is replay clicks over served slots', () => {
  const acc = new MetricsAccumulator(catalog, 10);
  // 1 click on 3 slots, then 0 on 2 → 1/5.
  acc.update(obs({ served: ['i0', 'i1', 'i2'], clicks: ['i1'] }));
  const e = acc.update(obs({ served: ['i3', 'i4'] }));
  assert.deepEqual([e.clicks, e.impressions], [0, 2]);
  const s = acc.snapshot();
  assert.deepEqual([s['ctr'], s['clicks'], s['impressions']], [0.2, 1, 5]);
});

test('fallback rate, cache hit rate and queue depth', () => {
  const acc = new MetricsAccumulator(catalog, 10);
  // fallback on 1 of 4 events → 1/4. Cache {3,1} + none + {1,3} + {2 hits} (no misses: no info) → 4 hits of 8 lookups = 0.5
  // (docs/metrics.md's example; the half-filled one made it NaN). Queue depth 5, (none), 9 → current 9, mean (5 + 9)/2 = 7.
  acc.update(obs({ fallback: false, cache: { hits: 3, misses: 1 }, queueDepth: 5 }));
  const e = acc.update(obs({ fallback: true }));
  acc.update(obs({ fallback: false, cache: { hits: 1, misses: 3 }, queueDepth: 9 }));
  acc.update(obs({ fallback: false, cache: { hits: 2 } as unknown as { hits: number; misses: number } }));
  assert.equal(e.fallback, 1);
  const s = acc.snapshot();
  near(s['fallback_rate'], 1 / 4, 'fallback_rate');
  assert.deepEqual([s['cache_hit_rate'], s['queue_depth'], s['queue_depth.mean'], s['events']], [0.5, 9, 7, 4]);
});

test('a fresh accumulator reads 0 everywhere except exposure parity, which is 1', () => {
  const s = new MetricsAccumulator(catalog, 10).snapshot();
  for (const [name, value] of Object.entries(s)) assert.equal(value, name === 'exposure_parity' ? 1 : 0, name);
});

test('names(k) lists exactly the snapshot keys, in order, with every stage quantile', () => {
  const names = MetricsAccumulator.names(10);
  assert.deepEqual(Object.keys(new MetricsAccumulator(catalog, 10).snapshot()), names);
  for (const key of ['hit_rate@10', 'mrr@10', 'ndcg@10', 'coverage@10', 'overlap@10', 'latency.total.p99']) {
    assert.ok(names.includes(key), key);
  }
  for (const stage of [...STAGES, 'total']) {
    for (const p of [50, 95, 99]) assert.ok(names.includes(`latency.${stage}.p${p}`), `${stage} p${p}`);
  }
  assert.ok(MetricsAccumulator.names(5).includes('ndcg@5'));
});

test('k bigger than the slate: metrics use what was served and divide overlap by k', () => {
  const acc = new MetricsAccumulator(catalog, 20);
  const e = acc.update(obs({ served: ['i0', 'i1'], relevant: ['i1'], recorded: ['i1', 'i0', 'i2'] }));
  assert.deepEqual([e.hit, e.rr, e.impressions], [1, 0.5, 2]);
  near(e.overlap, 2 / 20, 'overlap');
  near(e.ndcg, 1 / Math.log2(3), 'ndcg'); // IDCG over min(k, |relevant|) = 1 item
});

test('k must be a positive integer', () => {
  assert.throws(() => new MetricsAccumulator(catalog, 0), RangeError);
  assert.throws(() => new MetricsAccumulator(catalog, 2.5), RangeError);
});

/** A deterministic pseudo-random event stream (LCG), so the test needs no global RNG. */
function stream(count: number, seed: number): EventObservation[] {
  let state = seed >>> 0;
  const rand = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const pick = (n: number): string[] => Array.from({ length: n }, () => `i${rand(55)}`); // i50..i54: outside
  return Array.from({ length: count }, (_, i) => {
    const ranked = [...new Set(pick(25))];
    const served = ranked.slice(0, rand(11));
    const recorded = [...served, ...pick(5)];
    return {
      index: i + 1,
      ranked,
      served,
      recorded,
      relevant: rand(3) === 0 ? [] : pick(rand(3) + 1),
      clicks: served.filter(() => rand(4) === 0),
      fallback: rand(7) === 0,
      latencyMs: latency({ retrieve: rand(40), score: rand(400) + rand(1000) / 7, serve: rand(3) }),
      ...(rand(2) === 0 ? { queueDepth: rand(30) } : {}),
      ...(rand(2) === 0 ? { cache: { hits: rand(50), misses: rand(10) } } : {}),
    };
  });
}

test('restoring a checkpoint and replaying the rest gives an identical snapshot', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 120 }), fc.integer(), (at, seed) => {
      const events = stream(120, seed);
      const straight = new MetricsAccumulator(catalog, 10);
      const straightPoints = events.map((e) => straight.update(e));
      const head = new MetricsAccumulator(catalog, 10);
      events.slice(0, at).forEach((e) => head.update(e));
      // Through JSON text, as a checkpoint file or a DAP message would carry it.
      const saved: unknown = JSON.parse(JSON.stringify(head.save()));
      const resumed = MetricsAccumulator.restore(catalog, 10, saved);
      assert.deepEqual(resumed.snapshot(), head.snapshot());
      // The engine's typed form, through structured clone, restores the same state.
      const typed = MetricsAccumulator.restore(catalog, 10, deserialize(serialize(head.save(true))));
      assert.deepEqual(typed.snapshot(), head.snapshot());
      assert.deepEqual(events.slice(at).map((e) => typed.update(e)), straightPoints.slice(at));
      const tailPoints = events.slice(at).map((e) => resumed.update(e));
      assert.deepEqual(resumed.snapshot(), straight.snapshot());
      assert.deepEqual(tailPoints, straightPoints.slice(at));
    }),
    { numRuns: 40 },
  );
});

test('restore refuses a checkpoint of another catalogue, k or format', () => {
  const acc = new MetricsAccumulator(catalog, 10);
  stream(5, 1).forEach((e) => acc.update(e));
  const saved = acc.save() as Record<string, unknown>;
  assert.throws(() => MetricsAccumulator.restore(catalog.slice(1), 10, saved), /different catalogue/);
  const regrouped = catalog.map((e, i) => (i === 7 ? { ...e, group: 'other' } : e));
  assert.throws(() => MetricsAccumulator.restore(regrouped, 10, saved), /different catalogue/);
  assert.throws(() => MetricsAccumulator.restore(catalog, 5, saved), /k=10, not k=5/);
  assert.throws(() => MetricsAccumulator.restore(catalog, 10, { ...saved, format: 'x' }), /format/);
  assert.throws(() => MetricsAccumulator.restore(catalog, 10, { ...saved, exposures: [999, 1] }), /exposures/);
  assert.throws(() => MetricsAccumulator.restore(catalog, 10, { ...saved, exposures: [0, 2 ** 31] }), /exposures/); // counts are int32
  assert.throws(() => MetricsAccumulator.restore(catalog, 10, null), /not an object/);
});

test('value(name) reads one cumulative metric like the snapshot does', () => {
  const acc = new MetricsAccumulator(catalog, 10);
  stream(30, 7).forEach((e) => acc.update(e));
  const s = acc.snapshot();
  for (const name of MetricsAccumulator.names(10)) assert.equal(acc.value(name), s[name], name);
  assert.equal(acc.value('no_such_metric'), undefined);
});

test('a slate size k far above any slate (2^40) costs nothing up front, and slates up to ~200 items score as with a k that fits them', () => {
  // Tables and buffers of k entries made k = 10^9 in a manifest take gigabytes and most of a minute (2^40: no such array at all).
  const huge = new MetricsAccumulator(catalog, 2 ** 40);
  const fits = new MetricsAccumulator(catalog, 1000);
  const ids = catalog.map((c) => c.id);
  // Slates of growing length (the buffers and discount table grow past their first 64 entries), relevant items past them too.
  for (const n of [3, 10, 50, 65, 130, 200]) {
    const served = Array.from({ length: n }, (_, i) => ids[(i * 7 + n) % ids.length] as string);
    const relevant = Array.from({ length: Math.min(n + 5, 150) }, (_, i) => ids[(i * 3) % ids.length] as string);
    const a = huge.update(obs({ served, relevant, clicks: served.slice(0, 2) }));
    const b = fits.update(obs({ served, relevant, clicks: served.slice(0, 2) }));
    for (const key of ['hit', 'rr', 'ndcg', 'ild', 'novelty', 'kendallTau'] as const) assert.equal(a[key], b[key], `${key} at n=${n}`);
    // overlap@k divides by k (pinned definition): with k = 2^40 it is as small as it should be.
    assert.equal(a.overlap * 2 ** 40, Math.round(b.overlap * 1000), `overlap at n=${n}`);
  }
});
