import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packCheckpoint, unpackCheckpoint } from '../../src/core/engine/checkpoints';
import { MetricsAccumulator, type CatalogEntry, type EventObservation } from '../../src/core/metrics/index.js';
import { obs } from './helpers.js';

const catalog: CatalogEntry[] = Array.from({ length: 6 }, (_, i) => ({ id: `i${i}`, category: `c${i % 2}` }));

/** Through the engine's checkpoint format (what a seek restores from). */
const viaEngineCheckpoint = (saved: unknown): unknown => {
  const { header, arrays } = packCheckpoint(saved);
  return unpackCheckpoint(Buffer.concat([header, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]));
};

type Totals = Record<string, number>;
const totalsOf = (acc: MetricsAccumulator): Totals => (acc.save() as { totals: Totals }).totals;

test('running sums of finite system figures that overflow (±Infinity, NaN lookups) restore from a checkpoint as the straight run holds them', () => {
  // Every figure is finite, as the slice reader requires; the sums are not.
  const events: EventObservation[] = [
    obs({ served: ['i0', 'i1'], queueDepth: 1e308, cache: { hits: 1e308, misses: 1e308 } }),
    obs({ served: ['i2'], queueDepth: 1e308, cache: { hits: 1e308, misses: 0 } }),
    obs({ served: ['i3'], queueDepth: -1e308, cache: { hits: -1e308, misses: -1e308 } }),
    obs({ served: ['i4'], queueDepth: 3, cache: { hits: 1, misses: 2 } }),
    obs({ served: ['i5'], queueDepth: 4, cache: { hits: 2, misses: 2 } }),
  ];
  const straight = new MetricsAccumulator(catalog, 3);
  const points = events.map((e) => straight.update(e));
  const t = totalsOf(straight);
  // The cases the checkpoint must carry: +Infinity, NaN (an infinite total plus an opposite infinite event).
  assert.equal(t['queueSum'], Infinity);
  assert.equal(t['cacheHits'], Infinity);
  assert.ok(Number.isNaN(t['cacheLookups']));
  assert.equal(straight.snapshot()['queue_depth.mean'], Infinity);

  for (let at = 1; at < events.length; at++) {
    const head = new MetricsAccumulator(catalog, 3);
    events.slice(0, at).forEach((e) => head.update(e));
    for (const typed of [false, true]) {
      const resumed = MetricsAccumulator.restore(catalog, 3, viaEngineCheckpoint(head.save(typed)));
      assert.deepStrictEqual(totalsOf(resumed), totalsOf(head), `restored totals after ${at}`);
      assert.deepStrictEqual(events.slice(at).map((e) => resumed.update(e)), points.slice(at));
      // deepStrictEqual compares with Object.is: Infinity and NaN must be exactly those.
      assert.deepStrictEqual(resumed.snapshot(), straight.snapshot(), `snapshot resumed after ${at}`);
    }
  }

  const minus = new MetricsAccumulator(catalog, 3);
  minus.update(obs({ queueDepth: -1e308, cache: { hits: -1e308, misses: -1e308 } }));
  minus.update(obs({ queueDepth: -1e308, cache: { hits: -1e308, misses: 0 } }));
  const back = MetricsAccumulator.restore(catalog, 3, viaEngineCheckpoint(minus.save(true)));
  const m = totalsOf(minus);
  assert.deepStrictEqual([m['queueSum'], m['cacheHits'], m['cacheLookups']], [-Infinity, -Infinity, -Infinity]);
  assert.deepStrictEqual(totalsOf(back), m);
  assert.deepStrictEqual(back.snapshot(), minus.snapshot());
});

test('restore still refuses totals no run can hold: NaN sums, infinite counts, non-numbers', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  acc.update(obs({ served: ['i0'], queueDepth: 2, cache: { hits: 1, misses: 1 } }));
  const saved = acc.save() as { totals: Totals };
  const withTotal = (key: string, value: unknown) => ({ ...saved, totals: { ...saved.totals, [key]: value } });
  // Sums of finite figures are never NaN (only the lookups add an addend that can be infinite).
  for (const key of ['queueSum', 'cacheHits']) {
    assert.throws(() => MetricsAccumulator.restore(catalog, 3, withTotal(key, Number.NaN)), new RegExp(`totals\\.${key} is neither a finite number nor ±Infinity`));
  }
  for (const key of ['queueSum', 'cacheHits', 'cacheLookups']) {
    for (const bad of ['Infinity', null, undefined, {}, [1]]) {
      assert.throws(() => MetricsAccumulator.restore(catalog, 3, withTotal(key, bad)), new RegExp(`totals\\.${key} `), `${key}=${String(bad)}`);
    }
  }
  // Counts, bounded sums and the last queue depth (a finite figure itself) stay finite.
  for (const key of ['events', 'hits', 'ndcg', 'impressions', 'novelty', 'queueEvents', 'queueCurrent', 'kendallTau']) {
    for (const bad of [Infinity, -Infinity, Number.NaN, '1']) {
      assert.throws(() => MetricsAccumulator.restore(catalog, 3, withTotal(key, bad)), new RegExp(`totals\\.${key} is not a finite number`), `${key}=${String(bad)}`);
    }
  }
  // The same totals restore when they are fine.
  assert.deepStrictEqual(MetricsAccumulator.restore(catalog, 3, withTotal('queueSum', Infinity)).snapshot()['queue_depth.mean'], Infinity);
});
