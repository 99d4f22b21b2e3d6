import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ExposureCounts, giniNaive, MetricsAccumulator, type CatalogEntry } from '../../src/core/metrics/index.js';
import { near, obs } from './helpers.js';

const ids = (n: number): CatalogEntry[] => Array.from({ length: n }, (_, i) => ({ id: `i${i}` }));

test('coverage@k counts distinct catalogue items served in the top k', () => {
  const acc = new MetricsAccumulator(ids(5), 2);
  // served [i0,i1], [i1,i2,i3] (i3 beyond k = 2): distinct {i0,i1,i2} of 5 → 0.6.
  acc.update(obs({ served: ['i0', 'i1'] }));
  acc.update(obs({ served: ['i1', 'i2', 'i3'] }));
  assert.equal(acc.snapshot()['coverage@2'], 0.6);
});

test('novelty@k uses Laplace-smoothed exposure shares from before the event', () => {
  const acc = new MetricsAccumulator(ids(4), 2);
  // e1: no exposures yet, N = 4: p = 1/4 for both → novelty 2 each, event mean 2.
  const e1 = acc.update(obs({ served: ['i0', 'i1'] }));
  // e2: X = 2; p(i0) = (1+1)/(2+4) = 1/3 → log2 3 = 1.58496; p(i2) = 1/6 → log2 6 = 2.58496.
  const e2 = acc.update(obs({ served: ['i0', 'i2'] }));
  assert.equal(e1.novelty, 2);
  near(e2.novelty, (Math.log2(3) + Math.log2(6)) / 2, 'novelty e2');
  // Mean over all 4 served items, not over events: (2 + 2 + 1.58496 + 2.58496) / 4 = 2.04248.
  near(acc.snapshot()['novelty@2'], (4 + Math.log2(3) + Math.log2(6)) / 4, 'novelty@2');
});

test('Gini of exposure matches the hand-computed case, zeros included', () => {
  const acc = new MetricsAccumulator(ids(4), 3);
  assert.equal(acc.snapshot()['gini_exposure'], 0); // no exposures
  // Counts i0:2, i1:1, i2:1, i3:0 → sorted [0,1,1,2], Σx = 4, n = 4.
  // Σ(2i − n − 1)x_i = (−3)·0 + (−1)·1 + (1)·1 + (3)·2 = 6 → G = 6 / (4·4) = 0.375.
  acc.update(obs({ served: ['i0', 'i1'] }));
  acc.update(obs({ served: ['i0', 'i2'] }));
  assert.equal(acc.snapshot()['gini_exposure'], 0.375);
});

test('incremental Gini equals the naive sorted formula after every exposure', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }).chain((n) =>
        fc.tuple(fc.constant(n), fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 300 })),
      ),
      ([n, sequence]) => {
        const sorted = new ExposureCounts(n);
        const counts = new Array<number>(n).fill(0);
        for (const item of sequence) {
          sorted.increment(item);
          counts[item]!++;
          assert.equal(sorted.gini(), giniNaive(counts));
          assert.equal(sorted.count(item), counts[item]);
        }
        // A structure rebuilt from the counts (a checkpoint) carries on identically.
        const restored = new ExposureCounts(n, counts);
        assert.equal(restored.gini(), sorted.gini());
        restored.increment(0);
        counts[0]!++;
        assert.equal(restored.gini(), giniNaive(counts));
      },
    ),
    { numRuns: 300 },
  );
});

test('incremental Gini stays exact for counts past the dense range (2^20), restored or reached', () => {
  const big = 2 ** 20;
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: big - 4, max: big + 4 })), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(7), { maxLength: 60 }),
      (initial, sequence) => {
        const counts = [...initial];
        const live = new ExposureCounts(counts.length, counts);
        assert.equal(live.gini(), giniNaive(counts));
        for (const pick of sequence) {
          const item = pick % counts.length;
          assert.equal(live.increment(item), counts[item]);
          counts[item]!++;
          assert.equal(live.gini(), giniNaive(counts));
        }
        assert.equal(new ExposureCounts(counts.length, counts).gini(), live.gini());
      },
    ),
    { numRuns: 40 }, // each restore fills a 4 MB array
  );
  // One item climbing through the boundary from zero.
  const two = new ExposureCounts(2);
  for (let i = 0; i < big + 3; i++) two.increment(0);
  two.increment(1);
  assert.equal(two.gini(), giniNaive([big + 3, 1]));
  assert.throws(() => new ExposureCounts(2, [1, 0.5]), RangeError);
  assert.throws(() => new ExposureCounts(2, [1, -1]), RangeError);
});

test('exposure parity is min/max of per-item group means; group falls back to category, then "?"', () => {
  const cat: CatalogEntry[] = [
    { id: 'a', group: 'A', category: 'x' },
    { id: 'b', group: 'A' },
    { id: 'c', category: 'B' },
  ];
  const acc = new MetricsAccumulator(cat, 3);
  assert.equal(acc.snapshot()['exposure_parity'], 1); // no exposures at all
  // Exposures a:2, b:1, c:2 → A: 3/2 = 1.5 per item, B: 2/1 = 2 → parity 0.75.
  acc.update(obs({ served: ['a', 'b', 'c'] }));
  acc.update(obs({ served: ['a', 'c'] }));
  assert.equal(acc.snapshot()['exposure_parity'], 0.75);

  // Add an item with neither group nor category: group "?" never exposed → parity 0.
  const withUnknown = new MetricsAccumulator([...cat, { id: 'd' }], 3);
  withUnknown.update(obs({ served: ['a', 'b', 'c'] }));
  assert.equal(withUnknown.snapshot()['exposure_parity'], 0);
  // Once "?" gets the same mean (1 per item) as A and B, parity is 1.
  withUnknown.update(obs({ served: ['d'] }));
  assert.equal(withUnknown.snapshot()['exposure_parity'], 1);
});

test('items outside the catalogue are counted as overflow and leave catalogue metrics alone', () => {
  const acc = new MetricsAccumulator(ids(2), 3);
  // ghost has exposure 0 for novelty: p = 1/(0 + 2) → 1 bit, like an unseen catalogue item.
  const e = acc.update(obs({ served: ['ghost', 'i0', 'ghost'], relevant: ['ghost'] }));
  assert.deepEqual([e.hit, e.rr, e.novelty], [1, 1, 1]);
  const s = acc.snapshot();
  assert.equal(s['overflow_exposures'], 2);
  assert.equal(s['coverage@3'], 0.5);
  assert.equal(s['impressions'], 3);
  assert.equal(s['gini_exposure'], 0.5); // counts [0, 1]: (1·1) / (2·1)
});

test('an empty catalogue does not divide by zero', () => {
  const acc = new MetricsAccumulator([], 2);
  acc.update(obs({ served: ['x', 'y'] }));
  const s = acc.snapshot();
  assert.deepEqual(
    [s['coverage@2'], s['novelty@2'], s['gini_exposure'], s['exposure_parity'], s['overflow_exposures']],
    [0, 0, 0, 1, 2],
  );
});

test('duplicate catalogue ids count once and awkward ids are ordinary keys', () => {
  const cat: CatalogEntry[] = [{ id: '__proto__' }, { id: 'constructor' }, { id: '__proto__' }, { id: 'x' }];
  const acc = new MetricsAccumulator(cat, 3);
  acc.update(obs({ served: ['__proto__', 'constructor', 'toString'] }));
  const s = acc.snapshot();
  // 3 distinct catalogue items, 2 of them served; "toString" is not in the catalogue.
  assert.equal(s['coverage@3'], 2 / 3);
  assert.equal(s['overflow_exposures'], 1);
});

test('property: exposure parity kept as exposures come equals min/max of the group means computed afresh, before and after a restore', async () => {
  const { ExposureTracker } = await import('../../src/core/metrics/exposure.js');
  const { ItemIndex } = await import('../../src/core/metrics/catalog.js');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.array(fc.nat(15), { maxLength: 6 }), { maxLength: 40 }), (n, groups, events) => {
      const catalog: CatalogEntry[] = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, group: `g${i % groups}` }));
      const index = new ItemIndex(catalog);
      let t = new ExposureTracker(index);
      const counts = new Array<number>(n).fill(0);
      const afresh = () => {
        if (counts.every((c) => c === 0)) return 1;
        const means = [...Array(index.groupSizes.length).keys()].map((g) => counts.reduce((s, c, i) => s + (index.group[i] === g ? c : 0), 0) / (index.groupSizes[g] as number));
        return Math.min(...means) / Math.max(...means);
      };
      for (const [e, slots] of events.entries()) {
        const s = Int32Array.from(slots);
        t.exposeAll(s, s.length);
        for (const x of slots) if (x < n) counts[x]!++;
        assert.equal(t.parity(), afresh());
        if (e % 7 === 3) t = new ExposureTracker(index, t.save());
        assert.equal(t.parity(), afresh());
      }
    }),
    { numRuns: 300 },
  );
});
