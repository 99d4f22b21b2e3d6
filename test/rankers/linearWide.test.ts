import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker } from '../../src/core/rankers';
import { LinearRanker } from '../../src/core/rankers/linear';
import { ReplayState } from '../../src/core/engine/state';
import type { CandidateRow } from '../../src/core/engine/rows';
import type { EventRecord, FeatureMap } from '../../src/core/slice/types';
import { tmp } from '../helpers';

const event: EventRecord = { id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u1', context: { device: 'ios' }, candidates: [], served: [] };
const ctx = { event, user: { id: 'u1', segment: 'b', features: { tenure: 3 } }, state: new ReplayState([]) };

function artifact(content: unknown): string {
  const p = join(tmp(), 'a.json');
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function row(i: number, own: FeatureMap | undefined, item: FeatureMap | undefined): CandidateRow {
  const id = `c${i}`;
  return { item: id, slot: i, rec: own === undefined ? { item: id } : { item: id, features: own }, itemRec: { id, ...(item === undefined ? {} : { features: item }) }, recordedRank: i + 1, score: Number.NaN, rank: 0, prevRank: null };
}

/** Feature maps that count what scoring does with them: values read, and listings of their names. */
function counter() {
  const c = { gets: 0, listed: 0 };
  const counted = (f: FeatureMap): FeatureMap =>
    new Proxy(f, {
      get(target, k, receiver) {
        c.gets++;
        return Reflect.get(target, k, receiver);
      },
      ownKeys(target) {
        c.listed++;
        return Reflect.ownKeys(target);
      },
    });
  return { c, counted };
}

/** Scores with the weight-by-weight loop, the by-name one, or each row as its width decides ('mixed'), whatever the artifact's width. */
function scoreWith(how: boolean | 'mixed', path: string, rows: CandidateRow[]): number[] {
  const saved = [LinearRanker.wideFrom, LinearRanker.wideRowShare] as const;
  LinearRanker.wideFrom = how === false ? Infinity : -1;
  if (how === true) LinearRanker.wideRowShare = 0;
  try {
    return Array.from(loadRanker(`linear:${path}`).score({ ...ctx, rows }) as Float64Array);
  } finally {
    [LinearRanker.wideFrom, LinearRanker.wideRowShare] = saved;
  }
}

test('property: a wide artifact, scored by the features a row has, gives the very double of the weight-by-weight loop (every kind of name, value and scope; -0 and item fallbacks included)', async () => {
  const fc = (await import('fast-check')).default;
  // Names of every kind the loop resolves: plain, dotted but unscoped, scoped, inherited, one-hot
  // (on number, boolean, "=" in name or value), and "a=b" valued "c" against "a" valued "b=c".
  const names = ['f1', 'f2', 'price', 'x.y', 'flag', 'a', 'a=b', 'a=b=c', 'a=b' + '', 'f1=1', 'f1=0.5', 'flag=true', 'user.tenure', 'user.segment=b', 'context.device=ios', 'online.clicks', 'constructor', 'toString=x', 'x.constructor', '__proto__', 'nope', 'nope=1'];
  const keys = ['f1', 'f2', 'price', 'x.y', 'flag', 'a', 'a=b', 'constructor', 'nope2'];
  const value = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(-0), fc.constant(0), fc.constant(1), fc.constant(0.5), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.boolean(), fc.constantFrom('b', 'b=c', 'c', '1', 'true', 'x'));
  const features = fc.option(fc.dictionary(fc.constantFrom(...keys), value), { nil: undefined });
  const weight = fc.oneof(fc.constant(-0), fc.double({ min: -1e3, max: 1e3, noNaN: true }));
  fc.assert(
    fc.property(fc.array(fc.tuple(features, features), { minLength: 1, maxLength: 6 }), fc.shuffledSubarray(names, { minLength: 1 }), fc.array(weight, { minLength: names.length, maxLength: names.length }), weight, fc.boolean(), (cands, picked, ws, bias, sigmoid) => {
      const clean = (d: Record<string, unknown> | undefined) => (d === undefined ? undefined : (Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as FeatureMap));
      const rows = cands.map(([own, item], i) => row(i, clean(own), clean(item)));
      // Written by hand so "__proto__" is a key of the weights, as JSON.parse reads it, and -0 stays -0.
      const text = `{"weights": {${picked.map((n, i) => `${JSON.stringify(n)}: ${Object.is(ws[i], -0) ? '-0' : JSON.stringify(ws[i])}`).join(', ')}}, "bias": ${Object.is(bias, -0) ? '-0' : JSON.stringify(bias)}, "sigmoid": ${sigmoid}}`;
      const path = artifact(text);
      const narrow = scoreWith(false, path, rows);
      const wide = scoreWith(true, path, rows);
      const mixed = scoreWith('mixed', path, rows);
      for (let i = 0; i < rows.length; i++) {
        assert.ok(Object.is(wide[i], narrow[i]), `row ${i}: ${wide[i]} by name, ${narrow[i]} weight by weight (${text})`);
        assert.ok(Object.is(mixed[i], narrow[i]), `row ${i}: ${mixed[i]} as its width decides, ${narrow[i]} weight by weight (${text})`);
      }
    }),
    { numRuns: 1500, seed: 20261206 },
  );
});

test('a wide artifact reads each row\'s own features, not every weight: 200,000 hashed weights, a row of 8 features is looked at 8 times (it was 200,000 reads per row: hours for a slice)', () => {
  const weights: Record<string, number> = {};
  for (let i = 0; i < 200_000; i++) weights[`h${i}`] = (i % 7) - 3;
  const path = artifact({ weights, bias: 1 });
  const { c, counted } = counter();
  const own: FeatureMap = { h3: 2, h10: 0.5, h199999: 1, h5: true, h6: 'x', h7: null, other: 9, h8: 4 };
  const rows = [row(0, counted(own), counted({ h3: 100, h11: 3 }))];
  const r = loadRanker(`linear:${path}`);
  const [s] = Array.from(r.score({ ...ctx, rows }) as Float64Array);
  // 1 + h3 (0)·2 + h5 (2)·true + h8 (-2)·4 + h10 (0)·0.5 + h11 (1)·3 (the item's; the candidate lacks it) + h199999 (-1)·1
  assert.equal(s, 1 + 0 * 2 + 2 + -2 * 4 + 0 * 0.5 + 1 * 3 + -1 * 1);
  assert.ok(c.gets <= 2 * (Object.keys(own).length + 2), `${c.gets} feature reads for a row of ${Object.keys(own).length} features and an item of 2`);
});

test('a row with about as many features as a wide artifact has weights is read weight by weight (by name cost 10× more there); one with few, by name', () => {
  const weights: Record<string, number> = {};
  for (let i = 0; i < 100; i++) weights[`f${i}`] = i;
  const path = artifact({ weights });
  // Reading by name lists the row's features (a second time: its width is counted first); weight by weight does not.
  const { c, counted } = counter();
  const full: FeatureMap = Object.fromEntries(Object.keys(weights).map((k) => [k, 1]));
  const r = loadRanker(`linear:${path}`);
  assert.deepEqual(Array.from(r.score({ ...ctx, rows: [row(0, counted(full), undefined)] }) as Float64Array), [4950]);
  assert.deepEqual(c, { gets: 100, listed: 1 }, 'weight by weight: one read per weight; listed once, to count');
  c.gets = c.listed = 0;
  assert.deepEqual(Array.from(r.score({ ...ctx, rows: [row(0, counted({ f3: 2, f99: 1 }), undefined)] }) as Float64Array), [105]);
  assert.deepEqual(c, { gets: 2, listed: 2 }, 'by name: one read per feature');
});

test('a narrow artifact keeps the weight-by-weight loop (fewer lookups for a few weights)', () => {
  const { c, counted } = counter();
  const own = counted({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 });
  const [s] = Array.from(loadRanker(`linear:${artifact({ weights: { a: 1, j: 2 } })}`).score({ ...ctx, rows: [row(0, own, undefined)] }) as Float64Array);
  assert.equal(s, 21);
  assert.deepEqual(c, { gets: 2, listed: 0 }, 'one read per weight, and no listing');
});
