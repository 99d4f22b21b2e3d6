import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RankScratch, recordedRanking, recordedRankOf } from '../../src/core/engine/rows';
import { ReplayState } from '../../src/core/engine/state';
import { byScore, sortByScore } from '../../src/core/engine/stages';
import type { CandidateRecord, EventRecord } from '../../src/core/slice/types';

/** The definition, written the plain way: served order (first occurrence), then the rest by recorded score, stable. */
function reference(event: EventRecord): { order: string[]; rank: Map<string, number>; duplicates: boolean; ties: number[] } {
  const order: string[] = [];
  for (const id of event.served) if (!order.includes(id)) order.push(id);
  const seen = new Set<string>();
  let duplicates = false;
  const rest: CandidateRecord[] = [];
  for (const c of event.candidates) {
    if (seen.has(c.item)) duplicates = true;
    seen.add(c.item);
    if (!order.includes(c.item) && !rest.some((r) => r.item === c.item)) rest.push(c);
  }
  const sc = (c: CandidateRecord) => (typeof c.score === 'number' ? c.score : -Infinity);
  rest.sort((a, b) => sc(b) - sc(a));
  // Served items and unscored candidates have no tie; a scored candidate ties with the one before it
  // when that one was logged with the same score.
  const ties = order.map((_, j) => j);
  rest.forEach((c, a) => {
    const j = order.length;
    const before = rest[a - 1];
    ties.push(typeof c.score === 'number' && before !== undefined && before.score === c.score ? ties[j - 1]! : j);
    order.push(c.item);
  });
  return { order, rank: new Map(order.map((id, i) => [id, i + 1])), duplicates, ties };
}

/** The ties a recorded ranking gives, or positions when it says there are none (then none may tie). */
function tiesOf(got: { order: string[]; ties?: number[] }, want: { ties: number[] }): number[] {
  if (got.ties === undefined) assert.ok(want.ties.every((t, j) => t === j), 'ties reported when there are some');
  return got.ties ?? got.order.map((_, j) => j);
}

const ids = fc.constantFrom('i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'x1', 'x2');
const candidate = fc.record({ item: ids, score: fc.option(fc.constantFrom(0.1, 0.5, 0.5, 0.9, -2), { nil: undefined }) });
const event = fc.record({ candidates: fc.array(candidate, { maxLength: 12 }), served: fc.array(ids, { maxLength: 6 }) }).map(
  (e): EventRecord => ({ id: 'e', t: '2025-01-01T00:00:00Z', user: 'u', ...e, candidates: e.candidates.map((c) => (c.score === undefined ? { item: c.item } : c)) }),
);

test('property: the slot-based recorded ranking equals the plain definition, over many events on one scratch', () => {
  const items = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'].map((id) => ({ id }));
  const state = new ReplayState(items);
  const scratch = new RankScratch();
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 5 }), (events) => {
      for (const e of events) {
        const got = recordedRanking(e, state, scratch);
        const want = reference(e);
        assert.deepEqual(got.order, want.order);
        assert.deepEqual([...got.orderSlots], want.order.map((id) => state.slot(id)));
        assert.deepEqual([...got.candidateSlots], e.candidates.map((c) => state.slot(c.item)));
        assert.deepEqual([...got.candidateRanks], e.candidates.map((c) => want.rank.get(c.item)));
        assert.equal(got.duplicates, want.duplicates);
        assert.deepEqual(tiesOf(got, want), want.ties);
        for (const id of want.order) assert.equal(recordedRankOf(got.order, id), want.rank.get(id));
      }
    }),
    { numRuns: 300 },
  );
});

test('property: past 64 candidates (sorted, not insertion-sorted) the recorded ranking is the plain definition too', () => {
  const pool = Array.from({ length: 120 }, (_, i) => `i${i}`);
  const state = new ReplayState(pool.slice(0, 100).map((id) => ({ id })));
  const scratch = new RankScratch();
  const many = fc
    .record({
      candidates: fc.array(fc.record({ item: fc.constantFrom(...pool), score: fc.option(fc.constantFrom(0.1, 0.5, 0.5, 0.9, -2, 3), { nil: undefined }) }), { minLength: 65, maxLength: 160 }),
      served: fc.array(fc.constantFrom(...pool), { maxLength: 10 }),
    })
    .map((e): EventRecord => ({ id: 'e', t: '2025-01-01T00:00:00Z', user: 'u', ...e, candidates: e.candidates.map((c) => (c.score === undefined ? { item: c.item } : c)) }));
  fc.assert(
    fc.property(many, (e) => {
      const got = recordedRanking(e, state, scratch);
      const want = reference(e);
      assert.deepEqual(got.order, want.order);
      assert.deepEqual([...got.candidateRanks], e.candidates.map((c) => want.rank.get(c.item)));
      assert.deepEqual(tiesOf(got, want), want.ties);
    }),
    { numRuns: 200 },
  );
});

test('the scratch grows with the state: items outside the catalogue get slots beyond its first size', () => {
  const state = new ReplayState([{ id: 'a' }]);
  const scratch = new RankScratch();
  const candidates = Array.from({ length: 3000 }, (_, i) => ({ item: `new${i}`, score: i % 7 }));
  const r = recordedRanking({ id: 'e', t: '2025-01-01T00:00:00Z', user: 'u', candidates, served: ['new5', 'a'] }, state, scratch);
  assert.equal(r.order.length, 3001);
  assert.deepEqual(r.order.slice(0, 3), ['new5', 'a', 'new6']);
  assert.equal(r.candidateRanks[5], 1);
  assert.equal(recordedRankOf(r.order, 'missing'), undefined);
});

test('items outside the catalogue grow every state column to the same capacity, and grown columns keep their values', () => {
  const state = new ReplayState([{ id: 'a' }]);
  const columns = ['impressions', 'clicks', 'updatedAt', 'prevRank', 'prevStamp', 'loggedClicks', 'loggedExamination'] as const;
  const first = state.slot('x0');
  state.impress(first, true, 5);
  state.recordLogged(['x0'], ['x0']);
  for (let i = 1; i < 5000; i++) state.slot(`x${i}`);
  const lengths = columns.map((c) => state[c].length);
  // Every column as long as the first: the others grew to twice its capacity (16,384 entries each where 8,192 hold the 5,001 items).
  assert.deepEqual(lengths, columns.map(() => state.impressions.length), columns.map((c, i) => `${c} ${lengths[i]}`).join(', '));
  assert.ok(state.impressions.length >= state.ids.length && state.impressions.length < 2 * state.ids.length);
  assert.deepEqual([state.impressions[first], state.clicks[first], state.updatedAt[first], state.loggedClicks[first], state.loggedExamination[first]], [1, 1, 5, 1, 1]);
  assert.ok(Number.isNaN(state.updatedAt[state.ids.length - 1]), 'a new item was never updated');
});

test('the recorded ranking says how much of it the recording ranked: what it served, then the candidates it logged a score for', () => {
  const state = new ReplayState([]);
  const scratch = new RankScratch();
  const candidates = [{ item: 'a' }, { item: 'b', score: 0.2 }, { item: 'c' }, { item: 'd', score: 0.9 }, { item: 'e', score: null as unknown as number }];
  const r = recordedRanking({ id: 'e', t: '2025-01-01T00:00:00Z', user: 'u', candidates, served: ['c'] }, state, scratch);
  // c served; then d and b by score; then a and e, unscored, in candidate order.
  assert.deepEqual(r.order, ['c', 'd', 'b', 'a', 'e']);
  assert.equal(r.ranked, 3);
  // No scores at all (Open Bandit): only the served item is ranked.
  assert.equal(r.ties, undefined, 'no two scores alike: no ties');
  // b and f both logged at 0.2: the recording did not order them (both point at the block's first, 2).
  const tied = recordedRanking({ id: 'e', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [...candidates, { item: 'f', score: 0.2 }, { item: 'g', score: 0.1 }], served: ['c'] }, state, scratch);
  assert.deepEqual(tied.order, ['c', 'd', 'b', 'f', 'g', 'a', 'e']);
  assert.deepEqual(tied.ties, [0, 1, 2, 2, 4, 5, 6]);
  const bare = recordedRanking({ id: 'e', t: '2025-01-01T00:00:00Z', user: 'u', candidates: candidates.map((c) => ({ item: c.item })), served: ['b'] }, state, scratch);
  assert.equal(bare.ranked, 1);
});

test('property: the slate sort gives the comparator order (NaN and ±Infinity scores, ties broken by recorded rank)', () => {
  const score = fc.oneof(fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, 0.5, 0.5, 1), fc.double({ min: -1, max: 1, noNaN: true }));
  fc.assert(
    fc.property(fc.array(score, { maxLength: 80 }), (scores) => {
      // Recorded ranks are a permutation, as they are for the rows of one event.
      const ranks = scores.map((_, i) => i + 1).sort((a, b) => ((a * 7919) % 97) - ((b * 7919) % 97) || a - b);
      const rows = scores.map((s, i) => ({ item: `i${i}`, slot: i, rec: { item: `i${i}` }, itemRec: undefined, recordedRank: ranks[i] as number, score: s, rank: 0, prevRank: null }));
      assert.deepEqual(sortByScore(rows).map((r) => r.item), rows.slice().sort(byScore).map((r) => r.item));
    }),
    { numRuns: 300 },
  );
});
