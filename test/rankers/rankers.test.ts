import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker } from '../../src/core/rankers';
import { ReplayState } from '../../src/core/engine/state';
import { featureValue, type CandidateRow } from '../../src/core/engine/rows';
import { sortByScore } from '../../src/core/engine/stages';
import type { EventRecord } from '../../src/core/slice/types';
import { UserError } from '../../src/core/errors';
import { sha256 } from '../../src/core/slice/hashing';
import { tmp } from '../helpers';

const event: EventRecord = { id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u1', context: { device: 'ios' }, candidates: [], served: [] };
const row = (item: string, features: Record<string, number | string | null>, extra: Partial<CandidateRow> = {}): CandidateRow => ({
  item,
  slot: 0,
  rec: { item, features },
  itemRec: { id: item, features: { price: 2 } },
  recordedRank: 1,
  score: Number.NaN,
  rank: 0,
  prevRank: null,
  ...extra,
});
function artifact(content: unknown): string {
  const p = join(tmp(), 'a.json');
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

test('linear: bias + Σ w·x through a sigmoid, item features, user/context scopes and one-hot terms', () => {
  const p = artifact({ weights: { ctr: 2, price: 0.5, 'user.age': 0.1, 'context.device=ios': 1, 'color=red': 3 }, bias: -1, sigmoid: true, version: '3' });
  const r = loadRanker(`linear:${p}`);
  const state = new ReplayState([]);
  const user = { id: 'u1', features: { age: 10 } };
  const s = r.score({ event, user, state, rows: [row('a', { ctr: 0.5, color: 'red' }), row('b', { ctr: null, color: 'blue' })] }) as Float64Array;
  // a: -1 + 2*0.5 + 0.5*2 + 0.1*10 + 1 + 3 = 6 ; b: -1 + 0 + 1 + 1 + 1 = 2
  assert.ok(Math.abs((s[0] as number) - 1 / (1 + Math.exp(-6))) < 1e-12);
  assert.ok(Math.abs((s[1] as number) - 1 / (1 + Math.exp(-2))) < 1e-12);
  assert.equal(r.info.artifactSha256, sha256(JSON.stringify({ weights: { ctr: 2, price: 0.5, 'user.age': 0.1, 'context.device=ios': 1, 'color=red': 3 }, bias: -1, sigmoid: true, version: '3' })));
  assert.equal(r.info.version, '3');
});

test('linear: a feature named like what every object inherits (constructor, toString) reads the candidate\'s or item\'s own value, never Object\'s', () => {
  const p = artifact({ weights: { constructor: 2, toString: 1, 'user.valueOf': 4, 'context.constructor=x': 8 }, bias: 0 });
  const r = loadRanker(`linear:${p}`);
  const state = new ReplayState([]);
  const a = row('a', {}, { itemRec: { id: 'a', features: { constructor: 3, toString: 5 } } });
  const b = row('b', { constructor: 1 }, { itemRec: { id: 'b', features: {} } });
  const user = { id: 'u1', features: { valueOf: 0.5 } };
  const s = r.score({ event: { ...event, context: { constructor: 'x' } }, user, state, rows: [a, b] }) as Float64Array;
  // a: 2*3 (item) + 1*5 (item) + 4*0.5 + 8 = 21 ; b: 2*1 (candidate) + 0 + 2 + 8 = 12
  assert.deepEqual([...s], [21, 12]);
  assert.equal(featureValue(a, 'constructor', { event, user, state }), 3);
  assert.equal(featureValue(b, 'toString', { event, user, state }), undefined);
});

test('linear: a user feature written as null is missing (0), not the user record\'s field of that name', () => {
  const p = artifact({ weights: { 'user.age': 2, 'user.valueOf': 4 }, bias: 0 });
  const r = loadRanker(`linear:${p}`);
  const state = new ReplayState([]);
  const user = { id: 'u1', age: 40, valueOf: 7, features: { age: null, valueOf: null } } as never;
  assert.deepEqual([...(r.score({ event, user, state, rows: [row('a', {})] }) as Float64Array)], [0]);
  assert.equal(featureValue(row('a', {}), 'user.age', { event, user, state }), null);
  assert.equal(featureValue(row('a', {}), 'user.valueOf', { event, user, state }), null);
  // No feature of the name: the record's field is read (user.segment, user.id).
  assert.equal(featureValue(row('a', {}), 'user.age', { event, user: { id: 'u1', age: 40, features: {} } as never, state }), 40);
});

test('linear: online features read the replay state', () => {
  const p = artifact({ weights: { 'online.clicks': 1 } });
  const r = loadRanker(`linear:${p}`);
  const state = new ReplayState([{ id: 'a' }, { id: 'b' }]);
  state.applyOutcome(['a', 'b'], ['a'], 0);
  state.applyOutcome(['a'], ['a'], 1);
  const s = r.score({ event, user: undefined, state, rows: [row('a', {}), row('b', {})] });
  assert.deepEqual(Array.from(s as Float64Array), [2, 0]);
});

test('linear: a wrong-shape artifact names the file and field', () => {
  assert.throws(() => loadRanker(`linear:${artifact({ weights: { ctr: 'high' } })}`), (e: unknown) => e instanceof UserError && e.where.field === 'weights.ctr');
  assert.throws(() => loadRanker(`linear:${artifact({ bias: 1 })}`), (e: unknown) => e instanceof UserError && e.where.field === 'weights');
  assert.throws(() => loadRanker(`linear:${artifact({ weights: {}, sigmoid: 'yes' })}`), (e: unknown) => e instanceof UserError && e.where.field === 'sigmoid');
  assert.throws(() => loadRanker(`linear:${artifact('{oops')}`), (e: unknown) => e instanceof UserError && /not valid JSON/.test(e.message));
  assert.throws(() => loadRanker('linear:/nonexistent/model.json'), (e: unknown) => e instanceof UserError && /not found/.test(e.message) && e.where.file === '/nonexistent/model.json');
  assert.throws(() => loadRanker('linear'), (e: unknown) => e instanceof UserError && /needs an artifact path/.test(e.message));
});

test('an infinite weight, bias or vector value is shown as Infinity, not as null', () => {
  // 1e999 is valid JSON that reads as Infinity; JSON.stringify would have printed it as null.
  assert.throws(() => loadRanker(`linear:${artifact('{"weights": {"ctr": 1e999}}')}`), (e: unknown) => e instanceof UserError && /got Infinity$/.test(e.message) && e.where.field === 'weights.ctr');
  assert.throws(() => loadRanker(`linear:${artifact('{"weights": {}, "bias": -1e999}')}`), (e: unknown) => e instanceof UserError && /got -Infinity$/.test(e.message));
});

test('recorded and popularity take no argument: popularity:x is refused, not run as popularity', () => {
  for (const spec of ['popularity:foo', 'recorded:foo', 'recorded:']) {
    assert.throws(() => loadRanker(spec), (e: unknown) => e instanceof UserError && e.message.includes(`takes no argument, got "${spec}"`) && /linear:PATH and embedding:PATH take a path/.test(e.hint ?? ''), spec);
  }
});

test('unknown ranker lists the choices', () => {
  assert.throws(() => loadRanker('xgboost:m.json'), (e: unknown) => e instanceof UserError && /unknown ranker/.test(e.message) && /linear:PATH/.test(e.hint ?? ''));
});

test('embedding: dot product of user and item vectors; missing vectors score 0', () => {
  const p = artifact({ dim: 2, users: { u1: [1, 2] }, items: { a: [3, 4] } });
  const r = loadRanker(`embedding:${p}`);
  const s = r.score({ event, user: undefined, state: new ReplayState([]), rows: [row('a', {}), row('new', {})] });
  assert.deepEqual(Array.from(s as Float64Array), [11, 0]);
  assert.throws(() => loadRanker(`embedding:${artifact({ dim: 2, items: { a: [1] } })}`), (e: unknown) => e instanceof UserError && e.where.field === 'items.a');
  assert.throws(() => loadRanker(`embedding:${artifact({ dim: 0 })}`), (e: unknown) => e instanceof UserError && e.where.field === 'dim');
});

test('recorded uses logged scores, popularity uses replay clicks', () => {
  const rec = loadRanker('recorded');
  const rows = [row('a', {}, { rec: { item: 'a', score: 0.3 }, slot: 0 }), row('b', {}, { rec: { item: 'b', score: 0.7 }, slot: 1 })];
  assert.deepEqual(Array.from(rec.score({ event, user: undefined, state: new ReplayState([]), rows }) as Float64Array), [0.3, 0.7]);
  const pop = loadRanker('popularity');
  const state = new ReplayState([{ id: 'a' }, { id: 'b' }]);
  state.applyOutcome(['a', 'b'], ['b'], 0);
  const s = Array.from(pop.score({ event, user: undefined, state, rows }) as Float64Array);
  assert.ok((s[1] as number) > (s[0] as number));
});

test('recorded: when a candidate has no logged score, every candidate is scored from its recorded rank, so the replayed order is the recorded one', () => {
  const rec = loadRanker('recorded');
  const ctx = { event, user: undefined, state: new ReplayState([]) };
  const scored = (item: string, recordedRank: number, score?: number) => row(item, {}, { rec: score === undefined ? { item } : { item, score }, recordedRank });
  const order = (rows: CandidateRow[]) => {
    const s = rec.score({ ...ctx, rows }) as Float64Array;
    rows.forEach((r, i) => (r.score = s[i] as number));
    return sortByScore(rows).map((r) => r.item);
  };
  // d was not logged: a stand-in on another scale than 0.9/0.5/0.1 put it above c.
  assert.deepEqual(order([scored('a', 1, 0.9), scored('b', 2, 0.5), scored('c', 3, 0.1), scored('d', 4)]), ['a', 'b', 'c', 'd']);
  // The recorded order (served a, then c by its score, then b unscored) stands, whatever the logged values.
  assert.deepEqual(order([scored('a', 1, 0.05), scored('b', 3), scored('c', 2, 0.01)]), ['a', 'c', 'b']);
  // Every score logged: the logged scores are used as they are.
  assert.deepEqual(Array.from(rec.score({ ...ctx, rows: [scored('a', 1, 0.1), scored('b', 2, 0.7)] }) as Float64Array), [0.1, 0.7]);
});

test('the linear ranker and the debugger read features the same way: a recorded null wins over the item value', () => {
  const r = row('a', { price: null });
  const ctx = { event, user: undefined, state: new ReplayState([]) };
  assert.equal(featureValue(r, 'price', ctx), null);
  assert.equal(featureValue(row('b', {}), 'price', ctx), 2, 'absent on the candidate: the item value');
  const lin = loadRanker(`linear:${artifact({ weights: { price: 1 } })}`);
  assert.deepEqual(Array.from(lin.score({ ...ctx, rows: [r, row('b', {})] }) as Float64Array), [0, 2]);
});

test('property: the linear ranker scores as Σ weight·featureValue for every kind of value and scope', async () => {
  const fc = (await import('fast-check')).default;
  const value = fc.oneof(fc.constant(undefined), fc.constant(null), fc.double({ min: -5, max: 5, noNaN: true }), fc.boolean(), fc.constantFrom('a', 'b'));
  const names = ['user.tenure', 'f1', 'context.device', 'f2', 'f1=a', 'price', 'x.y'];
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.dictionary(fc.constantFrom('f1', 'f2', 'price', 'x.y'), value), fc.dictionary(fc.constantFrom('f1', 'price'), value)), { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: names.length, maxLength: names.length }), (cands, ws) => {
      const clean = (d: Record<string, unknown>) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as Record<string, number | string | null>;
      const rows = cands.map(([own, item], i) => ({ ...row(`c${i}`, clean(own)), itemRec: { id: `c${i}`, features: clean(item) } }));
      const weights = Object.fromEntries(names.map((n, i) => [n, ws[i] as number]));
      const ctx = { event, user: { id: 'u1', features: { tenure: 3 } }, state: new ReplayState([]) };
      const got = Array.from(loadRanker(`linear:${artifact({ weights, bias: 0.5 })}`).score({ ...ctx, rows }) as Float64Array);
      const want = rows.map((r) => {
        let s = 0.5;
        for (const n of names) {
          const eq = n.indexOf('=');
          const v = featureValue(r, eq > 0 ? n.slice(0, eq) : n, ctx);
          if (eq > 0) s += v !== undefined && v !== null && String(v) === n.slice(eq + 1) ? (weights[n] as number) : 0;
          else if (typeof v === 'number') s += (weights[n] as number) * v;
          else if (v === true) s += weights[n] as number;
        }
        return s;
      });
      assert.deepEqual(got, want);
    }),
    { numRuns: 200 },
  );
});
