import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bucketOf,
  LatencyHistogram,
  MetricsAccumulator,
  nearestRank,
  quantise,
} from '../../src/core/metrics/index.js';
import { latency, obs } from './helpers.js';

test('stage and total p50/p95/p99 follow nearest rank on the hand-computed case', () => {
  const acc = new MetricsAccumulator([], 10);
  // score: 10, 20, 30, 40, 1234 ms; retrieve: 1 ms each → totals 11, 21, 31, 41, 1235.
  for (const ms of [40, 10, 1234, 30, 20]) acc.update(obs({ latencyMs: latency({ score: ms, retrieve: 1 }) }));
  const s = acc.snapshot();
  // N = 5. p50: ceil(2.5) = 3rd smallest = 30. p95: ceil(4.75) = 5th = 1234, kept to 3
  // significant digits = 1230. p99: ceil(4.95) = 5th = 1230.
  assert.deepEqual([s['latency.score.p50'], s['latency.score.p95'], s['latency.score.p99']], [30, 1230, 1230]);
  assert.deepEqual([s['latency.retrieve.p50'], s['latency.retrieve.p99']], [1, 1]);
  assert.deepEqual([s['latency.rerank.p50'], s['latency.rerank.p99']], [0, 0]);
  assert.deepEqual([s['latency.total.p50'], s['latency.total.p95'], s['latency.total.p99']], [31, 1240, 1240]);
});

test('nearest rank is exact where q·N in floating point is not', () => {
  // 0.95 * 100 = 95.00000000000001 in doubles, whose ceil would wrongly be 96.
  assert.equal(nearestRank(95, 100), 95);
  assert.equal(nearestRank(99, 100), 99);
  assert.equal(nearestRank(50, 5), 3);
  assert.equal(nearestRank(50, 1), 1);
  const h = new LatencyHistogram();
  for (let v = 1; v <= 100; v++) h.record(v);
  assert.deepEqual([h.quantile(50), h.quantile(95), h.quantile(99)], [50, 95, 99]);
});

test('values keep 3 significant digits; integers below 1000 are exact', () => {
  for (let v = 0; v < 1000; v++) assert.equal(quantise(v), v);
  assert.equal(quantise(12.345), 12.3);
  assert.equal(quantise(0.29), 0.29);
  assert.equal(quantise(999.6), 1000);
  assert.equal(quantise(123_456), 123_000);
  assert.equal(quantise(0), 0);
  assert.equal(quantise(-5), 0); // invalid latencies land in the zero bucket
  assert.equal(quantise(Number.NaN), 0);
  assert.equal(quantise(1e-4), 0); // below 1 µs
  assert.equal(quantise(1e15), 999e6); // clamped to the top bucket (11.6 days)
  assert.equal(new LatencyHistogram().quantile(99), 0);
});

test('histogram quantiles equal sorting the quantised values', () => {
  const values = fc.oneof(
    fc.integer({ min: 0, max: 999 }),
    fc.double({ min: 0, max: 1e6, noNaN: true }),
    fc.double({ min: 1e-3, max: 10, noNaN: true }),
  );
  fc.assert(
    fc.property(fc.array(values, { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (xs, p) => {
      const h = new LatencyHistogram();
      for (const x of xs) h.record(x);
      const sorted = [...xs].sort((a, b) => a - b);
      const exact = sorted[nearestRank(p, xs.length) - 1]!;
      assert.equal(h.quantile(p), quantise(exact));
      // 3 significant digits: relative error at most half a unit in the third digit.
      if (exact >= 1e-3) assert.ok(Math.abs(quantise(exact) - exact) <= exact * 0.005 + 1e-12);
      if (Number.isInteger(exact) && exact < 1000) assert.equal(h.quantile(p), exact);
    }),
    { numRuns: 500 },
  );
});

test('quantiles asked between records, over runs of repeated values, match sorting the prefix', () => {
  // Runs of one value exercise the deferred tree updates; a query may fall inside a run.
  const run = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 100, noNaN: true })), fc.integer({ min: 1, max: 6 }));
  fc.assert(
    fc.property(fc.array(run, { minLength: 1, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 240, maxLength: 240 }), (runs, ask) => {
      const h = new LatencyHistogram();
      const seen: number[] = [];
      for (const [v, times] of runs) {
        for (let i = 0; i < times; i++) {
          h.record(v);
          seen.push(v);
          if (!ask[seen.length - 1]) continue;
          const sorted = [...seen].sort((a, b) => a - b);
          for (const p of [1, 50, 99, 100]) assert.equal(h.quantile(p), quantise(sorted[nearestRank(p, seen.length) - 1]!));
        }
      }
      assert.equal(h.count, seen.length);
      assert.deepEqual(LatencyHistogram.restore(h.save()).quantile(50), h.quantile(50));
    }),
    { numRuns: 300 },
  );
});

test('buckets are ordered like the values they hold', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e10, noNaN: true }), fc.double({ min: 0, max: 1e10, noNaN: true }), (a, b) => {
      if (a <= b) assert.ok(bucketOf(a) <= bucketOf(b));
      else assert.ok(bucketOf(a) >= bucketOf(b));
    }),
    { numRuns: 2000 },
  );
});

test('a restored histogram answers like the original', () => {
  const h = new LatencyHistogram();
  for (const v of [3, 3, 7.25, 1500, 42]) h.record(v);
  const r = LatencyHistogram.restore(h.save());
  for (const p of [1, 50, 95, 99, 100]) assert.equal(r.quantile(p), h.quantile(p));
  assert.equal(r.count, 5);
});
