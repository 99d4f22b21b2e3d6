// The adapter's per-event metric series (timeline, metric-drop detector) against the engine's own cumulative metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricStore, faultKindsOf, faultMaskOf } from '../../src/debugAdapter/metricStore';
import { MetricDropDetector, parseMetricDrop } from '../../src/debugAdapter/metricDrop';
import { Replayer } from '../../src/core/engine/replay';
import { PopularityRanker } from '../../src/core/rankers/builtin';
import { Slice } from '../../src/core/slice/reader';
import type { MetricSeriesName } from '../../src/shared/dap';
import { join } from 'node:path';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, tmp } from '../helpers';

test('running means of the stored series end at the engine\'s cumulative metrics, at any bucket size, novelty weighted by served items', async () => {
  // Every third event has two candidates, the others six: novelty@k is a mean over served items,
  // so an unweighted mean of per-event novelty would differ.
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const events: EventRecord[] = [];
  for (let i = 1; i <= 90; i++) {
    const n = i % 3 === 0 ? 2 : 6;
    const candidates = Array.from({ length: n }, (_, j) => ({ item: ids[(i + j * 3) % ids.length] as string, features: { x: j } }));
    // Cache figures of varying size: the engine's hit rate is total hits over total lookups.
    events.push({ id: `e${i}`, t: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(), user: 'u1', candidates, served: candidates.map((c) => c.item), outcome: { clicks: i % 2 ? [candidates[1]?.item as string] : [] }, system: { cache: { hits: i % 5, misses: (i % 3) * 7 } } });
  }
  const dir = join(tmp(), 'nov.slice');
  const items = ids.map((id, i) => ({ id, category: `c${i % 3}` }));
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: 4, budgetMs: 100 } }, events, items, users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00Z' });
  const store = new MetricStore();
  const r = new Replayer(Slice.open(dir), { ranker: new PopularityRanker(), pipeline: { k: 4 }, onEventComplete: (ex) => ex.metrics && store.record(ex.metrics, 4, ex.event.system) });
  try {
    await r.runToEnd();
    const snap = r.metrics.snapshot();
    const last = (s: MetricSeriesName) => store.buckets(s, 1, 90, 1000, true).buckets.at(-1)?.mean;
    const pairs: [MetricSeriesName, string][] = [['novelty', 'novelty@4'], ['hit', 'hit_rate@4'], ['rr', 'mrr@4'], ['ndcg', 'ndcg@4'], ['ild', 'diversity@4'], ['overlap', 'overlap@4'], ['kendallTau', 'kendall_tau'], ['fallback', 'fallback_rate'], ['ctr', 'ctr'], ['cacheHitRate', 'cache_hit_rate']];
    for (const [series, key] of pairs) {
      const want = snap[key] as number;
      const got = last(series) as number;
      // Stored as Float32: equal to ~1e-7 relative.
      assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${series}: ${got} vs ${key} ${want}`);
    }
    // Buckets of several events: the point is the running value at the bucket's last event (so the
    // last one is still the engine's number), the range that of the running value inside the bucket.
    for (const [series, key] of pairs) {
      const perEvent = store.buckets(series, 1, 90, 1000, true).buckets;
      const { bucketSize, buckets } = store.buckets(series, 1, 90, 7, true);
      assert.equal(bucketSize, 13);
      for (const b of buckets) {
        const inside = perEvent.slice(b.from - 1, b.to).map((x) => x.mean).filter((v): v is number => v !== null);
        assert.equal(b.mean, perEvent[b.to - 1]?.mean, `${series}: bucket ${b.from}..${b.to} ends at the running value of event ${b.to}`);
        assert.deepEqual([b.min, b.max], inside.length ? [Math.min(...inside), Math.max(...inside)] : [null, null]);
      }
      const want = snap[key] as number;
      assert.ok(Math.abs((buckets.at(-1)?.mean as number) - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${series} with buckets of 13`);
    }
    // The window mean weighs novelty, CTR and the cache hit rate the same way.
    assert.ok(Math.abs((store.mean('novelty', 1, 90).mean as number) - (snap['novelty@4'] as number)) < 1e-6);
    assert.ok(Math.abs((store.mean('ctr', 1, 90).mean as number) - (snap['ctr'] as number)) < 1e-6);
    assert.ok(Math.abs((store.mean('cacheHitRate', 1, 90).mean as number) - (snap['cache_hit_rate'] as number)) < 1e-6);
    // …which a plain mean of the events' own ratios would not be (the case has to tell them apart).
    const plain = (s: MetricSeriesName) => {
      const v = Array.from({ length: 90 }, (_, i) => store.value(s, i + 1)).filter((x): x is number => x !== null);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    assert.ok(Math.abs(plain('ctr') - (snap['ctr'] as number)) > 1e-3 && Math.abs(plain('cacheHitRate') - (snap['cache_hit_rate'] as number)) > 1e-3);
    assert.ok((snap['novelty@4'] as number) > 0, 'a novelty to weigh');
  } finally {
    r.dispose();
  }
});

test('per-event CTR is each event\'s own clicks / impressions: a bucket averages the events\' CTRs, with their range (not a ratio of the bucket\'s means)', () => {
  const store = new MetricStore();
  const base = { hit: null, rr: null, ndcg: null, ild: null, novelty: null, overlap: 0, kendallTau: 1, fallback: 0, latencyTotalMs: 10 };
  store.record({ ...base, index: 1, clicks: 1, impressions: 2 }, 10);
  store.record({ ...base, index: 2, clicks: 0, impressions: 8 }, 10);
  store.record({ ...base, index: 3, clicks: 0, impressions: 0 }, 10);
  const { buckets } = store.buckets('ctr', 1, 3, 1, false);
  assert.equal(buckets.length, 1);
  // (0.5 + 0) / 2 — the event with nothing served has no CTR and is skipped; the ratio of means would read 1/10.
  assert.equal(buckets[0]?.mean, 0.25);
  assert.equal(buckets[0]?.min, 0);
  assert.equal(buckets[0]?.max, 0.5);
  assert.equal(store.value('ctr', 3), null);
});

test('the metric-drop detector weighs events as the engine does (CTR: clicks over impressions), sliding in order as after a jump', () => {
  const base = { hit: null, rr: null, ndcg: null, ild: null, novelty: null, overlap: 0, kendallTau: 1, fallback: 0, latencyTotalMs: 10 };
  const store = new MetricStore();
  // Events 1..40: 10 impressions, 5 clicks (CTR 0.5). Then pairs of 1 impression 1 click (CTR 1) and
  // 10 impressions no click (CTR 0): the events' own CTRs still average 0.5, but 1 click in 11
  // impressions is an 82% drop.
  for (let n = 1; n <= 80; n++) {
    const late = n > 40;
    const [clicks, impressions] = !late ? [5, 10] : n % 2 ? [1, 1] : [0, 10];
    store.record({ ...base, index: n, clicks, impressions }, 10);
  }
  const spec = parseMetricDrop('ctr 50% window 20');
  const inOrder = new MetricDropDetector(spec);
  const fired: number[] = [];
  for (let n = 1; n <= 80; n++) if (inOrder.check(store, n)) fired.push(n);
  assert.ok(fired.length > 0 && (fired[0] as number) > 40 && (fired[0] as number) <= 60, `fired at ${fired.join(', ')}`);
  // A detector that meets event n after a jump (its sums rebuilt from the store) fires exactly where the sliding one did.
  for (let n = 1; n <= 80; n++) assert.equal(new MetricDropDetector(spec).check(store, n) !== undefined, fired.includes(n), `event ${n}`);
  const msg = new MetricDropDetector(spec);
  let first: { message: string; value: number } | undefined;
  for (let n = 1; n <= 80 && !first; n++) first = msg.check(store, n);
  assert.match(first?.message ?? '', /^mean ctr of the last 20 events fell to 0\.\d+, \d+% below the 20 events before \(0\.500\)$/);
});

/** The buckets of one call, computed from value() and weight() alone, event by event: what buckets() must answer. */
function referenceBuckets(store: MetricStore, series: MetricSeriesName, from: number, to: number, maxPoints: number, cumulative: boolean): { bucketSize: number; buckets: { from: number; to: number; mean: number | null; min: number | null; max: number | null }[] } {
  const lo = Math.max(1, from);
  const hi = Math.min(to, store.through);
  if (hi < lo) return { bucketSize: 1, buckets: [] };
  const bucketSize = Math.max(1, Math.ceil((hi - lo + 1) / Math.max(1, maxPoints)));
  let runSum = 0;
  let runWeight = 0;
  const running = (n: number): number | null => {
    const v = store.value(series, n);
    if (v !== null) {
      runSum += store.weight(series, n) * v;
      runWeight += store.weight(series, n);
    }
    return runWeight ? runSum / runWeight : null;
  };
  if (cumulative) for (let n = 1; n < lo; n++) running(n);
  const buckets = [];
  for (let start = lo; start <= hi; start += bucketSize) {
    const end = Math.min(hi, start + bucketSize - 1);
    const vs: number[] = [];
    for (let n = start; n <= end; n++) {
      const v = cumulative ? running(n) : store.value(series, n);
      if (v !== null) vs.push(v);
    }
    const mean = vs.length ? (cumulative ? (vs.at(-1) as number) : vs.reduce((a, b) => a + b, 0) / vs.length) : null;
    buckets.push({ from: start, to: end, mean, min: vs.length ? Math.min(...vs) : null, max: vs.length ? Math.max(...vs) : null });
  }
  return { bucketSize, buckets };
}

test('buckets() kept between calls answer as if computed afresh, event by event, while events arrive; with `known` only the tail from the last held bucket comes back', () => {
  const base = { hit: null, rr: null, ndcg: null, ild: null, novelty: null, overlap: 0, kendallTau: 1, fallback: 0, latencyTotalMs: 10 };
  const close = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined ? a === b : typeof b === 'number' && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));
  fc.assert(
    fc.property(
      // Per event: a hit (or none), clicks and impressions, cache figures; then the calls made after it.
      fc.array(fc.record({ hit: fc.option(fc.integer({ min: 0, max: 1 })), novelty: fc.option(fc.double({ min: 0, max: 5, noNaN: true })), impressions: fc.integer({ min: 0, max: 4 }), clicks: fc.integer({ min: 0, max: 2 }), hits: fc.integer({ min: 0, max: 3 }), misses: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 120 }),
      // Few keys, so that calls meet the answers kept by earlier ones (the same series, mode, start and bucket size).
      // `back`: a call for fewer events than replayed (`to` below the last), after one for more.
      fc.array(fc.record({ after: fc.nat(), series: fc.constantFrom<MetricSeriesName>('hit', 'novelty', 'ctr', 'cacheHitRate'), from: fc.integer({ min: 1, max: 2 }), maxPoints: fc.integer({ min: 1, max: 6 }), cumulative: fc.boolean(), back: fc.constantFrom(0, 0, 0, 1, 4) }), { minLength: 1, maxLength: 80 }),
      (events, calls) => {
        const store = new MetricStore();
        const held = new Map<string, { bucketSize: number; buckets: { from: number; to: number; mean: number | null; min: number | null; max: number | null }[] }>();
        const byEvent = [...calls].sort((a, b) => (a.after % events.length) - (b.after % events.length));
        let next = 0;
        events.forEach((e, i) => {
          const clicks = Math.min(e.clicks, e.impressions);
          store.record({ ...base, index: i + 1, hit: e.hit, novelty: e.novelty, clicks, impressions: e.impressions }, 3, { cache: { hits: e.hits, misses: e.misses } });
          for (; next < byEvent.length && (byEvent[next] as (typeof calls)[0]).after % events.length === i; next++) {
            const c = byEvent[next] as (typeof calls)[0];
            const to = Math.max(1, i + 1 - c.back);
            const want = referenceBuckets(store, c.series, c.from, to, c.maxPoints, c.cumulative);
            const got = store.buckets(c.series, c.from, to, c.maxPoints, c.cumulative);
            assert.equal(got.bucketSize, want.bucketSize);
            assert.equal(got.first, 0);
            assert.equal(got.buckets.length, want.buckets.length);
            got.buckets.forEach((b, j) => {
              const w = want.buckets[j];
              assert.ok(w && b.from === w.from && b.to === w.to && close(b.mean, w.mean) && close(b.min, w.min) && close(b.max, w.max), `${c.series} ${c.cumulative ? 'cumulative' : 'per event'} bucket ${j} through ${to}: ${JSON.stringify(b)} vs ${JSON.stringify(w)}`);
            });
            // A caller holding an earlier answer gets the buckets from its last one on; put together, the whole answer.
            const key = `${c.series} ${c.cumulative} ${c.from}`;
            const had = held.get(key);
            const tail = store.buckets(c.series, c.from, to, c.maxPoints, c.cumulative, had && { bucketSize: had.bucketSize, buckets: had.buckets.length });
            const merged = had && tail.first > 0 ? [...had.buckets.slice(0, tail.first), ...tail.buckets] : tail.buckets;
            if (had && had.bucketSize === tail.bucketSize) assert.equal(tail.first, Math.max(0, Math.min(had.buckets.length, got.buckets.length) - 1), 'from the last bucket both answers have');
            else assert.equal(tail.first, 0, 'another bucket size: everything again');
            assert.deepEqual(merged, got.buckets);
            held.set(key, { bucketSize: tail.bucketSize, buckets: merged });
          }
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('buckets() of a million events: a stop one event later costs one bucket, not a pass over the replay (counted in value reads, not time)', () => {
  const base = { hit: 1, rr: 0.5, ndcg: 0.5, ild: 0.2, novelty: 1, overlap: 0, kendallTau: 1, fallback: 0, latencyTotalMs: 10, clicks: 0, impressions: 3 };
  const store = new MetricStore();
  for (let n = 1; n <= 1_000_000; n++) store.record({ ...base, index: n, hit: n % 3 ? 1 : 0 }, 3);
  const full = store.buckets('hit', 1, 1_000_000, 4000, true);
  assert.equal(full.bucketSize, 250);
  store.record({ ...base, index: 1_000_001, hit: 0 }, 3);
  store.record({ ...base, index: 1_000_002, hit: 1 }, 3);
  // 1,000,001 and 1,000,002 events need buckets of 251: computed again in full, once.
  store.buckets('hit', 1, 1_000_001, 4000, true);
  // Reads of the stored values from here on: one more event must read about one bucket's worth.
  let reads = 0;
  const chunks = (store as unknown as { chunks: Map<string, Float32Array[]> }).chunks;
  const list = chunks.get('hit') as Float32Array[];
  chunks.set('hit', new Proxy(list, { get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) && reads++, Reflect.get(t, k)) }));
  const next = store.buckets('hit', 1, 1_000_002, 4000, true, { bucketSize: 251, buckets: Math.ceil(1_000_001 / 251) });
  chunks.set('hit', list);
  assert.ok(reads <= 2 * 251, `${reads} reads`);
  assert.equal(next.first, Math.ceil(1_000_001 / 251) - 1);
  assert.equal(next.buckets.length, 1);
  // The running hit rate at the last event: 2 hits in every 3 events (1,000,002 = 3 × 333,334).
  assert.ok(Math.abs((next.buckets[0]?.mean as number) - 2 / 3) < 1e-9, `running hit rate ${next.buckets[0]?.mean}`);
});

test('buckets() keeps memory by the buckets answered, not by maxPoints, and keeps no answer of more than a timeline draws', () => {
  const base = { hit: 1, rr: 0.5, ndcg: 0.5, ild: 0.2, novelty: 1, overlap: 0, kendallTau: 1, fallback: 0, latencyTotalMs: 10, clicks: 0, impressions: 3 };
  const store = new MetricStore();
  for (let n = 1; n <= 10; n++) store.record({ ...base, index: n }, 3);
  const kept = (store as unknown as { bucketCache: Map<string, { mean: Float64Array }> }).bucketCache;
  for (const maxPoints of [100_000, 50_000_000, Number.MAX_SAFE_INTEGER]) {
    const r = store.buckets('hit', 1, 10, maxPoints, true);
    assert.equal(r.buckets.length, 10, `maxPoints ${maxPoints}`);
  }
  assert.ok([...kept.values()].every((c) => c.mean.length <= 16), 'room for the ten buckets there are (it was maxPoints each)');
  // Growing with the events: a bucket per event, past the first room.
  for (let n = 11; n <= 200; n++) store.record({ ...base, index: n }, 3);
  assert.equal(store.buckets('hit', 1, 200, 100_000, true).buckets.length, 200);
  // An answer of more than 100,000 buckets is computed and given, not kept.
  for (let n = 201; n <= 100_001; n++) store.record({ ...base, index: n }, 3);
  assert.equal(store.buckets('hit', 1, 100_001, Number.MAX_SAFE_INTEGER, false).buckets.length, 100_001);
  assert.ok(![...kept.values()].some((c) => c.mean.length > 100_000));
});

test('fault masks are kept per event across chunks: a range gives its kinds and its first and last faulted event', () => {
  const store = new MetricStore();
  const m = (index: number) => ({ index, hit: null, rr: null, ndcg: null, ild: null, novelty: null, overlap: 1, kendallTau: null, fallback: 0, clicks: 0, impressions: 0, latencyTotalMs: 1 });
  const faulted = new Map([[5, faultMaskOf(['nan_score'])], [65_536, faultMaskOf(['over_budget', 'stage_over_budget'])], [65_540, faultMaskOf(['divergence'])]]);
  for (let n = 1; n <= 70_000; n++) store.record(m(n), 10, undefined, faulted.get(n) ?? 0);
  assert.deepEqual(store.faultsIn(1, 4), { mask: 0, from: 0, to: 0 });
  assert.deepEqual(store.faultsIn(1, 70_000), { mask: faultMaskOf(['nan_score', 'over_budget', 'stage_over_budget', 'divergence']), from: 5, to: 65_540 });
  // Across the 64k chunk boundary.
  assert.deepEqual(store.faultsIn(6, 80_000), { mask: faultMaskOf(['over_budget', 'stage_over_budget', 'divergence']), from: 65_536, to: 65_540 });
  assert.deepEqual(store.faultsIn(65_537, 65_540), { mask: faultMaskOf(['divergence']), from: 65_540, to: 65_540 });
  assert.deepEqual(faultKindsOf(store.faultMask(65_536)), ['over_budget', 'stage_over_budget']);
  assert.deepEqual(store.point(65_536).faults, ['over_budget', 'stage_over_budget']);
  assert.equal(store.point(65_537).faults, undefined, 'an event without faults names none');
  const b = store.buckets('hit', 1, 70_000, 2, false, undefined, true).buckets;
  assert.deepEqual(b.map((x) => [x.faultMask, x.faultFrom, x.faultTo]), [[faultMaskOf(['nan_score']), 5, 5], [faultMaskOf(['over_budget', 'stage_over_budget', 'divergence']), 65_536, 65_540]]);
});

test('a metric-drop detector that met the session after a jump (goto, step back) and went on event by event fires where one that slid from the start does', () => {
  // hit per event ("." undefined: no click to find). Rebuilt as mean × weight, the window of 15 hits
  // in 26 events before event 53 read 14.999999999999998, and the sums slid on from there: 14 events
  // after a jump to event 53 the detector fired where a straight run did not (window 27, 50%).
  const hits = '1110101000101011101110111.111101110110110000101001101.01100011100001011110011111.001..0.10001000010100000001';
  const base = { rr: null, ndcg: null, ild: null, novelty: null, overlap: 0, kendallTau: 1, fallback: 0, latencyTotalMs: 10, clicks: 0, impressions: 1 };
  const store = new MetricStore();
  for (let n = 1; n <= hits.length; n++) store.record({ ...base, index: n, hit: hits[n - 1] === '.' ? null : Number(hits[n - 1]) }, 10);
  const spec = parseMetricDrop('hit 50% window 27');
  const straight = new MetricDropDetector(spec);
  const fired: boolean[] = [];
  for (let n = 1; n <= hits.length; n++) fired.push(straight.check(store, n) !== undefined);
  assert.ok(fired.some((f) => f), 'the straight run fires somewhere');
  for (let jump = 2; jump <= hits.length; jump++) {
    const d = new MetricDropDetector(spec);
    for (let n = jump; n <= hits.length; n++) assert.equal(d.check(store, n) !== undefined, fired[n - 1], `jumped to ${jump}, then event ${n}`);
  }
});
