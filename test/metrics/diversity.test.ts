import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intraListDiversity } from '../../src/core/metrics/ranking';

/** The definition: unordered pairs whose categories differ, over all pairs. */
function pairwise(cats: number[]): number | null {
  if (cats.length < 2) return null;
  let differ = 0;
  for (let i = 0; i < cats.length; i++) for (let j = i + 1; j < cats.length; j++) if (cats[i] !== cats[j]) differ++;
  return differ / ((cats.length * (cats.length - 1)) / 2);
}

test('property: intra-list diversity is the share of pairs of differing categories, on slates small and large (no category, -1, counts as one)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 300 }), fc.nat(300), (cats, extra) => {
      const m = Math.min(cats.length, extra + 2);
      const got = intraListDiversity(Int32Array.from(cats), m);
      assert.ok(Object.is(got, pairwise(cats.slice(0, m))), `${String(got)} for ${m} of ${cats.join(',')}`);
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('a slate of 3,000 is read in work linear in its length, not pair by pair (a replayed slate of 200,000 took minutes an event)', () => {
  const m = 3000;
  const cats = Int32Array.from({ length: m }, (_, i) => i % 7);
  let reads = 0;
  const counted = new Proxy(cats, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const got = intraListDiversity(counted, m);
  assert.ok(Object.is(got, pairwise(Array.from(cats))));
  assert.ok(reads <= 4 * m, `${reads} reads of ${m} categories`);
});
