// A live session's timeline data sent as deltas (src/shared/laneDelta.ts): what the webview splices
// together is exactly the lane the host built, and what does not fit is refused, never misdrawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyDataFrom, applyLaneDelta, laneDelta } from '../../src/shared/laneDelta';
import { parseHostMessage, parseWebviewMessage, type LaneData } from '../../src/shared/webview';

const value = fc.oneof(fc.constant(null), fc.double({ noNaN: false }), fc.integer({ min: -3, max: 3 }));

/** A lane of n buckets with the given series, values from `v`. */
function laneArb(n: number, series: string[], faults: boolean): fc.Arbitrary<LaneData> {
  const arr = fc.array(value, { minLength: n, maxLength: n });
  const nums = fc.array(fc.integer({ min: 0, max: 7 }), { minLength: n, maxLength: n });
  return fc.record({
    x: fc.constant(Array.from({ length: n }, (_, i) => (i + 1) * 4)),
    series: fc.tuple(...series.map(() => fc.record({ v: arr, lo: arr, hi: arr }))).map((s) => Object.fromEntries(series.map((id, i) => [id, s[i] as LaneData['series'][string]]))),
    faultMask: nums,
    faultFrom: nums,
    faultTo: nums,
  }).map((r) => ({ id: 'replay', label: 'replay (linear:x)', dashed: false, bucketSize: 4, ...r, ...(faults ? {} : { faultFrom: undefined, faultTo: undefined }) }) as LaneData);
}

/** `next`: `prev` with buckets from `keep` on replaced or added (and values changed anywhere when `anywhere`). */
const pair = fc
  .record({ n: fc.integer({ min: 0, max: 30 }), grow: fc.integer({ min: 0, max: 5 }), faults: fc.boolean(), series: fc.uniqueArray(fc.constantFrom('hit_rate', 'ndcg', 'ctr', 'queue_depth'), { maxLength: 4 }) })
  .chain(({ n, grow, faults, series }) =>
    fc.tuple(laneArb(n, series, faults), laneArb(n + grow, series, faults), fc.integer({ min: 0, max: n })).map(([prev, fresh, keep]) => {
      const next = structuredClone(fresh);
      // The first `keep` buckets as before: a step changes only the last ones.
      const copy = <T>(from: readonly T[], to: T[]) => from.slice(0, keep).forEach((x, i) => (to[i] = x));
      copy(prev.x, next.x);
      copy(prev.faultMask, next.faultMask);
      if (prev.faultFrom && next.faultFrom) copy(prev.faultFrom, next.faultFrom);
      if (prev.faultTo && next.faultTo) copy(prev.faultTo, next.faultTo);
      for (const id of series) for (const p of ['v', 'lo', 'hi'] as const) copy((prev.series[id] as LaneData['series'][string])[p], (next.series[id] as LaneData['series'][string])[p]);
      return { prev, next, keep };
    }),
  );

test('a lane sent as a delta on the last one and spliced onto it is the lane itself (values, nulls, -0, NaN), and starts no later than the first changed bucket', () => {
  fc.assert(
    fc.property(pair, ({ prev, next, keep }) => {
      const d = laneDelta(prev, next);
      assert.ok(d, 'same bucket size and series: a delta');
      assert.ok(d.from >= keep && d.from <= next.x.length, `from ${d.from}, kept ${keep}`);
      // Nothing the delta left out differs.
      assert.deepEqual(next.x.slice(0, d.from), prev.x.slice(0, d.from));
      // It survives the webview's check, and the splice gives the lane back.
      assert.ok(parseHostMessage({ type: 'dataFrom', mode: 'event', lanes: [d], eventCount: 9, seq: 2, base: 1 }));
      const back = applyLaneDelta(prev, structuredClone(d));
      assert.ok(back);
      assert.deepEqual(back, structuredClone(next));
      assert.deepEqual(applyDataFrom({ seq: 1, lanes: [prev] }, 1, [d]), [back]);
    }),
    { seed: 20261206, numRuns: 400 },
  );
});

test('a delta is as small as the change: one step on a 4,000-bucket lane sends its last bucket, not the lane', () => {
  const n = 4000;
  const arr = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  const prev: LaneData = { id: 'replay', label: 'replay', dashed: false, bucketSize: 250, x: arr((i) => (i + 1) * 250), faultMask: arr(() => 0), series: { ndcg: { v: arr((i) => i / n), lo: arr(() => 0), hi: arr(() => 1) } } };
  const next = structuredClone(prev);
  (next.series['ndcg'] as LaneData['series'][string]).v[n - 1] = 0.123;
  const d = laneDelta(prev, next);
  assert.equal(d?.from, n - 1);
  assert.deepEqual(d?.x, [n * 250]);
  assert.ok(JSON.stringify(d).length < JSON.stringify(next).length / 100, `${JSON.stringify(d).length} bytes`);
  // Nothing changed: an empty delta (the eventCount and labels still go).
  assert.equal(laneDelta(prev, prev)?.from, n);
});

test('what is not a delta is sent whole, and a delta that does not fit what the webview holds is refused (it asks for a resync)', () => {
  const lane: LaneData = { id: 'replay', label: 'replay', dashed: false, bucketSize: 2, x: [2, 4], faultMask: [0, 0], series: { ndcg: { v: [1, 2], lo: [1, 2], hi: [1, 2] } } };
  assert.equal(laneDelta(lane, { ...lane, bucketSize: 4, x: [4] }), undefined, 'rebucketed');
  assert.equal(laneDelta(lane, { ...lane, series: { ...lane.series, ctr: { v: [1, 1], lo: [1, 1], hi: [1, 1] } } }), undefined, 'a series came');
  assert.equal(laneDelta(lane, { ...lane, series: {} }), undefined, 'a series went');
  assert.equal(laneDelta(lane, { ...lane, faultFrom: [0, 0], faultTo: [0, 0] }), undefined, 'fault events came');
  assert.equal(laneDelta(lane, { ...lane, x: [2], faultMask: [0], series: { ndcg: { v: [1], lo: [1], hi: [1] } } }), undefined, 'buckets went');
  assert.equal(laneDelta(lane, { ...lane, id: 'baseline' }), undefined, 'another lane');
  const d = laneDelta(lane, { ...lane, x: [2, 4, 6], faultMask: [0, 0, 1], series: { ndcg: { v: [1, 2, 3], lo: [1, 2, 3], hi: [1, 2, 3] } } });
  assert.equal(d?.from, 2);
  assert.ok(d);
  // Held: another message than the one it builds on, no message, another number of lanes, a shorter lane.
  assert.equal(applyDataFrom({ seq: 4, lanes: [lane] }, 3, [d]), undefined);
  assert.equal(applyDataFrom(undefined, 3, [d]), undefined);
  assert.equal(applyDataFrom({ seq: 3, lanes: [lane, lane] }, 3, [d]), undefined);
  assert.equal(applyLaneDelta({ ...lane, x: [2], faultMask: [0], series: { ndcg: { v: [1], lo: [1], hi: [1] } } }, d), undefined);
  assert.deepEqual(applyDataFrom({ seq: 3, lanes: [lane] }, 3, [d])?.[0]?.x, [2, 4, 6]);
  // The messages themselves: a delta without its numbers, or a lane without `from`, is not one; resync is a webview message.
  assert.equal(parseHostMessage({ type: 'dataFrom', mode: 'event', lanes: [d], eventCount: 6, seq: 4 }), undefined);
  assert.equal(parseHostMessage({ type: 'dataFrom', mode: 'event', lanes: [lane], eventCount: 6, seq: 4, base: 3 }), undefined);
  assert.equal(parseHostMessage({ type: 'dataFrom', mode: 'event', lanes: [{ ...d, from: -1 }], eventCount: 6, seq: 4, base: 3 }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'resync' }), { type: 'resync' });
});
