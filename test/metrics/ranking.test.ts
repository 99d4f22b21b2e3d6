import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricsAccumulator, type CatalogEntry } from '../../src/core/metrics/index.js';
import { near, obs } from './helpers.js';

const catalog: CatalogEntry[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id }));

test('HR@k, MRR@k and NDCG@k match the hand-computed case and skip events without relevant items', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  // e1: served [a,b,c], relevant [b]: hit 1, rr 1/2, DCG = 1/log2(3) = 0.63093, IDCG = 1.
  const e1 = acc.update(obs({ served: ['a', 'b', 'c'], relevant: ['b'] }));
  // e2: served [d,e,f], relevant [a]: hit 0, rr 0, ndcg 0.
  const e2 = acc.update(obs({ served: ['d', 'e', 'f'], relevant: ['a'] }));
  // e3: no relevant items: skipped by all three, values null.
  const e3 = acc.update(obs({ served: ['a', 'b', 'c'], relevant: [] }));
  // e4: served [c,a,e], relevant [a,c,x]: hit 1, rr 1, DCG = 1 + 1/log2(3) = 1.63093,
  //     IDCG over min(3, 3) = 3 items = 1 + 1/log2(3) + 1/log2(4) = 2.13093, ndcg = 0.76536.
  const e4 = acc.update(obs({ served: ['c', 'a', 'e'], relevant: ['a', 'c', 'x'] }));
  const g = 1 / Math.log2(3);
  assert.deepEqual([e1.hit, e2.hit, e3.hit, e4.hit], [1, 0, null, 1]);
  assert.deepEqual([e1.rr, e2.rr, e3.rr, e4.rr], [0.5, 0, null, 1]);
  near(e1.ndcg, g, 'ndcg e1');
  near(e4.ndcg, (1 + g) / (1 + g + 0.5), 'ndcg e4');
  assert.equal(e3.ndcg, null);
  const s = acc.snapshot();
  near(s['hit_rate@3'], 2 / 3, 'hit_rate@3'); // (1 + 0 + 1) / 3 events with relevant items
  near(s['mrr@3'], 0.5, 'mrr@3'); // (0.5 + 0 + 1) / 3
  near(s['ndcg@3'], (g + 0 + (1 + g) / (1.5 + g)) / 3, 'ndcg@3');
});

test('IDCG is capped at k relevant items and a repeated relevant item earns gain once', () => {
  const acc = new MetricsAccumulator(catalog, 2);
  // 3 relevant items but k = 2: IDCG = 1 + 1/log2(3); served [a, a]: DCG = 1 (the repeat earns nothing).
  const e = acc.update(obs({ served: ['a', 'a'], relevant: ['a', 'b', 'c'] }));
  near(e.ndcg, 1 / (1 + 1 / Math.log2(3)), 'ndcg');
  assert.equal(e.rr, 1);
});

test('only served[0..k) counts for relevance', () => {
  const acc = new MetricsAccumulator(catalog, 2);
  // The relevant item sits at position 3, beyond k = 2.
  const e = acc.update(obs({ served: ['a', 'b', 'c'], relevant: ['c'] }));
  assert.deepEqual([e.hit, e.rr, e.ndcg], [0, 0, 0]);
});

test('relevance metrics read 0 when no event had relevant items', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  acc.update(obs({ served: ['a'] }));
  acc.update(obs({ served: [] }));
  const s = acc.snapshot();
  assert.deepEqual([s['hit_rate@3'], s['mrr@3'], s['ndcg@3']], [0, 0, 0]);
});

test('an empty slate with relevant items is a miss', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  const e = acc.update(obs({ served: [], relevant: ['a'] }));
  assert.deepEqual([e.hit, e.rr, e.ndcg, e.ild, e.novelty], [0, 0, 0, null, null]);
  assert.equal(acc.snapshot()['hit_rate@3'], 0);
});

test('overlap@k divides by k, also when fewer than k items were served', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  // e1: served [a,b,c], recorded top-3 [a,c,d]: common {a,c} → 2/3.
  const e1 = acc.update(obs({ served: ['a', 'b', 'c'], recorded: ['a', 'c', 'd', 'b'] }));
  // e2: served [a] (1 < k), recorded top-3 [a,b,c]: common {a} → 1/3.
  const e2 = acc.update(obs({ served: ['a'], recorded: ['a', 'b', 'c'] }));
  near(e1.overlap, 2 / 3, 'overlap e1');
  near(e2.overlap, 1 / 3, 'overlap e2');
  near(acc.snapshot()['overlap@3'], 0.5, 'overlap@3');
  // e3: nothing served, nothing recorded (an event without candidates): 0, not null, and it counts.
  const e3 = acc.update(obs({ served: [], recorded: [] }));
  assert.equal(e3.overlap, 0);
  near(acc.snapshot()['overlap@3'], 1 / 3, 'overlap@3 with the empty event');
});

test('Kendall tau-a compares ranked and recorded over their common items', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  // e1: ranked [a,b,c,d], recorded [b,a,c,e]; common a,b,c with recorded positions [1,0,2] in
  //     replayed order: (a,b) discordant, (a,c) and (b,c) concordant → (2 − 1)/3 = 1/3.
  const e1 = acc.update(obs({ ranked: ['a', 'b', 'c', 'd'], recorded: ['b', 'a', 'c', 'e'] }));
  // e2: one common item: no pair to compare → null, left out of the mean.
  const e2 = acc.update(obs({ ranked: ['x'], recorded: ['x', 'y'] }));
  // e3: an empty slate (every candidate dropped) → null too; it read 1, as if it agreed.
  const e3 = acc.update(obs({ ranked: [], served: [], recorded: ['a', 'b', 'c'] }));
  near(e1.kendallTau as number, 1 / 3, 'tau e1');
  assert.equal(e2.kendallTau, null);
  assert.equal(e3.kendallTau, null);
  near(acc.snapshot()['kendall_tau'], 1 / 3, 'kendall_tau');
});

test('Kendall tau-a leaves out what the recording did not rank (no score logged, not served): their place in candidate order is no order to agree with', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  // e1: ranked [a,b,c,d], recorded [b,a,c,e] of which the recording ranked the first 2 (b served, a
  //     scored; c and e unscored): common a, b at recorded positions [1,0] → one discordant pair → −1.
  const e1 = acc.update(obs({ ranked: ['a', 'b', 'c', 'd'], recorded: ['b', 'a', 'c', 'e'], recordedRanked: 2 }));
  // e2: the recording ranked only what it served (b): one item, no pair → null (Open Bandit logs no scores).
  const e2 = acc.update(obs({ ranked: ['a', 'b', 'c', 'd'], recorded: ['b', 'a', 'c', 'e'], recordedRanked: 1 }));
  // e3: all ranked: as without the field (1/3).
  const e3 = acc.update(obs({ ranked: ['a', 'b', 'c', 'd'], recorded: ['b', 'a', 'c', 'e'], recordedRanked: 4 }));
  assert.equal(e1.kendallTau, -1);
  assert.equal(e2.kendallTau, null);
  near(e3.kendallTau as number, 1 / 3, 'tau e3');
  near(acc.snapshot()['kendall_tau'], (-1 + 1 / 3) / 2, 'kendall_tau');
});

test('Kendall tau leaves out the pairs the recording did not order (candidates logged with the same score): their candidate order is no order to agree with', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  // recorded [a, b, c, d, e]: a served, b..e logged with one score (ties [0, 1, 1, 1, 1]).
  const ties = [0, 1, 1, 1, 1];
  // e1: ranked a, e, d, c, b: the 4 pairs with a are concordant, the 6 tied ones count neither way → 4/4 = 1
  //     (tau-a over candidate order read (4 − 6)/10 = −0.2).
  const e1 = acc.update(obs({ ranked: ['a', 'e', 'd', 'c', 'b'], recorded: ['a', 'b', 'c', 'd', 'e'], recordedTies: ties }));
  // e2: ranked c, a, b: (c, a) discordant, (a, b) concordant, (c, b) tied → (1 − 1)/2 = 0.
  const e2 = acc.update(obs({ ranked: ['c', 'a', 'b'], recorded: ['a', 'b', 'c', 'd', 'e'], recordedTies: ties }));
  // e3: only tied items in common: no pair the recording ordered → null, left out of the mean.
  const e3 = acc.update(obs({ ranked: ['d', 'b', 'x'], recorded: ['a', 'b', 'c', 'd', 'e'], recordedTies: ties }));
  assert.equal(e1.kendallTau, 1);
  assert.equal(e2.kendallTau, 0);
  assert.equal(e3.kendallTau, null);
  near(acc.snapshot()['kendall_tau'], 0.5, 'kendall_tau');
  // Past the insertion-sort limit (merge sort): 40 items, the last 39 tied and replayed in reverse.
  const ids = Array.from({ length: 40 }, (_, i) => `i${i}`);
  const reversedTail = [ids[0]!, ...ids.slice(1).reverse()];
  assert.equal(acc.update(obs({ ranked: reversedTail, recorded: ids, recordedTies: ids.map((_, j) => (j === 0 ? 0 : 1)) })).kendallTau, 1);
  assert.equal(acc.update(obs({ ranked: [...reversedTail].reverse(), recorded: ids, recordedTies: ids.map((_, j) => (j === 0 ? 0 : 1)) })).kendallTau, -1);
  // recordedTies must match recorded and point at or before each position.
  assert.throws(() => acc.update(obs({ ranked: ['a'], recorded: ['a', 'b'], recordedTies: [0] })), /1 recordedTies for 2 recorded ids/);
  assert.throws(() => acc.update(obs({ ranked: ['a'], recorded: ['a', 'b'], recordedTies: [0, 2] })), /recordedTies\[1\] = 2/);
});

test('Kendall tau-a is −1 for a full reversal and matches the O(n²) definition on a longer list', () => {
  const acc = new MetricsAccumulator([], 3);
  const ids = Array.from({ length: 37 }, (_, i) => `i${i}`);
  assert.equal(acc.update(obs({ ranked: ids, recorded: [...ids].reverse() })).kendallTau, -1);
  // A fixed shuffle (multiplicative step mod a prime) checked against pair counting.
  const shuffled = ids.map((_, i) => ids[(i * 11) % 37]!);
  let c = 0;
  let d = 0;
  for (let i = 0; i < 37; i++) {
    for (let j = i + 1; j < 37; j++) {
      if (ids.indexOf(shuffled[i]!) < ids.indexOf(shuffled[j]!)) c++;
      else d++;
    }
  }
  near(acc.update(obs({ ranked: shuffled, recorded: ids })).kendallTau, (c - d) / ((37 * 36) / 2), 'tau');
});

test('intra-list diversity counts differing category pairs; missing categories share "?"', () => {
  const cat: CatalogEntry[] = [
    { id: 'a', category: 'x' },
    { id: 'b', category: 'x' },
    { id: 'c', category: 'y' },
    { id: 'd' },
    { id: 'e' },
  ];
  const acc = new MetricsAccumulator(cat, 4);
  // e1: [a,b,c,d] → 6 pairs, only (a,b) share a category → 5/6.
  const e1 = acc.update(obs({ served: ['a', 'b', 'c', 'd'] }));
  // e2: a single item → skipped.
  const e2 = acc.update(obs({ served: ['a'] }));
  // e3: [d,e] both "?" → 0.
  const e3 = acc.update(obs({ served: ['d', 'e'] }));
  near(e1.ild, 5 / 6, 'ild e1');
  assert.equal(e2.ild, null);
  assert.equal(e3.ild, 0);
  near(acc.snapshot()['diversity@4'], 5 / 12, 'diversity@4'); // (5/6 + 0) / 2
});

test('Kendall tau-a equals pair counting on random permutations with partial overlap', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
      (a, b) => {
        const ranked = a.map((x) => `i${x}`);
        const recorded = b.map((x) => `i${x}`);
        const common = ranked.filter((id) => recorded.includes(id));
        let score = 0;
        for (let i = 0; i < common.length; i++) {
          for (let j = i + 1; j < common.length; j++) {
            score += recorded.indexOf(common[i]!) < recorded.indexOf(common[j]!) ? 1 : -1;
          }
        }
        const n = common.length;
        const acc = new MetricsAccumulator([], 10);
        const tau = acc.update(obs({ ranked, recorded })).kendallTau;
        if (n < 2) assert.equal(tau, null);
        else near(tau as number, score / ((n * (n - 1)) / 2), 'tau');
      },
    ),
    { numRuns: 300 },
  );
});
