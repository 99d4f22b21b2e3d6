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

test('running sums of system figures near 1e308 stay finite (the rates and means are numbers, as defined), and restore from a checkpoint as the straight run holds them', () => {
  // Every figure is finite, as the slice reader requires; unscaled, their sums overflowed
  // (cache_hit_rate read 0, then NaN; queue_depth.mean Infinity).
  const events: EventObservation[] = [
    obs({ served: ['i0', 'i1'], queueDepth: 1e308, cache: { hits: 1e308, misses: 1e308 } }),
    obs({ served: ['i2'], queueDepth: 1e308, cache: { hits: 1e308, misses: 0 } }),
    obs({ served: ['i3'], queueDepth: -1e308, cache: { hits: -1e308, misses: -1e308 } }),
    obs({ served: ['i4'], queueDepth: 3, cache: { hits: 1, misses: 2 } }),
    obs({ served: ['i5'], queueDepth: 4, cache: { hits: 2, misses: 2 } }),
  ];
  const straight = new MetricsAccumulator(catalog, 3);
  const points = events.map((e) => straight.update(e));
  for (const v of Object.values(totalsOf(straight))) assert.ok(Number.isFinite(v));
  // hits 1e308 (+3), lookups 1e308 (+7): 1 to a double; the depths' mean (1e308 + 7) / 5.
  assert.equal(straight.snapshot()['cache_hit_rate'], 1);
  assert.equal(straight.snapshot()['queue_depth.mean'], 1e308 / 5);
  const one = new MetricsAccumulator(catalog, 3);
  one.update(events[0] as EventObservation);
  assert.equal(one.snapshot()['cache_hit_rate'], 0.5);
  assert.equal(one.snapshot()['queue_depth.mean'], 1e308);

  for (let at = 1; at < events.length; at++) {
    const head = new MetricsAccumulator(catalog, 3);
    events.slice(0, at).forEach((e) => head.update(e));
    for (const typed of [false, true]) {
      const resumed = MetricsAccumulator.restore(catalog, 3, viaEngineCheckpoint(head.save(typed)));
      assert.deepStrictEqual(totalsOf(resumed), totalsOf(head), `restored totals after ${at}`);
      assert.deepStrictEqual(events.slice(at).map((e) => resumed.update(e)), points.slice(at));
      assert.deepStrictEqual(resumed.snapshot(), straight.snapshot(), `snapshot resumed after ${at}`);
    }
  }

  const minus = new MetricsAccumulator(catalog, 3);
  minus.update(obs({ queueDepth: -1e308, cache: { hits: -1e308, misses: -1e308 } }));
  minus.update(obs({ queueDepth: -1e308, cache: { hits: -1e308, misses: 0 } }));
  assert.equal(minus.snapshot()['queue_depth.mean'], -1e308);
  assert.equal(minus.snapshot()['cache_hit_rate'], 2 / 3);
  const back = MetricsAccumulator.restore(catalog, 3, viaEngineCheckpoint(minus.save(true)));
  assert.deepStrictEqual(totalsOf(back), totalsOf(minus));
  assert.deepStrictEqual(back.snapshot(), minus.snapshot());
});

test('an empty category or group is none ("?"), as a left-out or null one is: diversity and parity groups read them alike', () => {
  const acc = new MetricsAccumulator([{ id: 'd', category: '' }, { id: 'e' }, { id: 'f', category: null as unknown as string }, { id: 'g', category: 'x', group: '' }], 3);
  assert.equal(acc.update(obs({ served: ['d', 'e', 'f'] })).ild, 0);
  // g's group is its category, x: two groups ("?" and x), one of them never exposed.
  assert.equal(acc.snapshot()['exposure_parity'], 0);
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
