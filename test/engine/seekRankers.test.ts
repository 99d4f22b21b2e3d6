import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Replayer, type EventExec } from '../../src/core/engine/replay';
import { traceLine } from '../../src/core/engine/traceFormat';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { STAGES, type EventRecord, type ItemRecord, type UserRecord } from '../../src/core/slice/types';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, tmp } from '../helpers';

// Seek against a straight replay over slices of a few hundred events, with every built-in ranker:
// recorded (logged scores, and rank-derived ones where a score is missing), popularity (replay
// state), linear (online features, user features, a one-hot term) and embedding (artifact and slice
// vectors). Events hold what makes orders fragile: equal scores, -0, duplicate candidates, items
// outside the catalogue, repeated event ids, clicks on items not served, fallbacks, stale features.

const T0 = Date.parse('2025-03-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const ITEMS: ItemRecord[] = [
  { id: 'i0', category: 'a', group: 'old', embedding: [0.5, -0.25] },
  { id: 'i1', category: 'a', group: 'old', features: { ctr: 0.2 } },
  { id: 'i2', category: 'b', group: 'new', available: [{ from: iso(T0 + 20_000), to: iso(T0 + 200_000) }], embedding: [-0, 1] },
  { id: 'i3', category: 'b', group: 'new', embedding: [1, 1] },
  { id: 'i4', group: 'new' },
  { id: 'i5', category: 'c', group: 'old', embedding: [0.25, 0.25] },
  { id: 'i6', category: 'c', group: 'old', available: [{ to: iso(T0 + 100_000) }] },
  { id: 'i7', category: 'a', group: 'new', features: { ctr: 0.9 } },
];
const POOL = [...ITEMS.map((i) => i.id), 'x0', 'x1', 'x2', 'x3', 'x4', 'x5'];
const USERS: UserRecord[] = [
  { id: 'u0', features: { age: 30 }, embedding: [1, 0] },
  { id: 'u1', features: { age: 45 } },
  { id: 'u2', embedding: [0.5, 0.5] },
];

const eventArb = fc.record({
  // Duplicates allowed: retrieve keeps the first of an item.
  cands: fc.array(fc.constantFrom(...POOL), { minLength: 0, maxLength: 6 }),
  // Equal scores and -0 among them; undefined: not logged (the recorded ranker then scores by recorded rank).
  scores: fc.array(fc.constantFrom(0.5, 0.5, 0.25, -0, 0, 1, undefined), { minLength: 6, maxLength: 6 }),
  served: fc.array(fc.nat(7), { minLength: 0, maxLength: 4 }),
  clicks: fc.array(fc.nat(7), { minLength: 0, maxLength: 2 }),
  user: fc.constantFrom('u0', 'u1', 'u2', 'u9'),
  repeatId: fc.option(fc.nat(), { nil: undefined, freq: 8 }),
  slowScore: fc.boolean(),
  staleSec: fc.constantFrom(10, 5_000),
  gapMs: fc.constantFrom(0, 700, 3_000),
});
type EventSpec = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function sliceOf(specs: readonly EventSpec[]): string {
  let t = T0;
  const ids: string[] = [];
  const events: EventRecord[] = specs.map((s, i) => {
    t += s.gapMs;
    // Now and then an id repeats an earlier event's (a log may; the click streams are then shared).
    const id = s.repeatId !== undefined && ids.length > 0 ? (ids[s.repeatId % ids.length] as string) : `e${i + 1}`;
    ids.push(id);
    const candidates = s.cands.map((item, j) => {
      const score = s.scores[j];
      return { item, features: { ctr: j / 10, fresh: j % 2 }, ...(score !== undefined ? { score } : {}) };
    });
    const pick = (k: number) => (k < s.cands.length ? (s.cands[k] as string) : (POOL[k] as string));
    const served = [...new Set(s.served.map(pick))];
    return {
      id,
      t: iso(t),
      user: s.user,
      context: { page: i % 2 ? 'home' : 'search' },
      candidates,
      served,
      outcome: { clicks: [...new Set(s.clicks.map(pick))] },
      system: { latencyMs: { retrieve: 5, features: 10, score: s.slowScore ? 140 : 10 + (i % 3), rerank: 1 }, queueDepth: i % 5, cache: { hits: i % 7, misses: 1 } },
      featureTimes: { ctr: iso(t - s.staleSec * 1000), fresh: iso(t) },
    };
  });
  const dir = join(tmp(), 'seek.slice');
  writeSlice(
    dir,
    { manifest: { ...BASE_MANIFEST, pipeline: { k: 3, budgetMs: 150, staleAfterSec: 3600, maxPerCategory: 1 } }, events, items: ITEMS, users: USERS },
    { frozenAt: '2025-03-02T00:00:00.000Z' },
  );
  return dir;
}

/** Ranker specs over artifacts in one folder. */
function rankerSpecs(): Record<string, string> {
  const dir = tmp();
  const linear = join(dir, 'linear.json');
  writeFileSync(linear, JSON.stringify({ weights: { 'online.ctr': 5, 'online.clicks': 0.25, ctr: 1, 'user.age': 0.01, 'context.page=home': 0.5 }, bias: -1, sigmoid: true }));
  const embedding = join(dir, 'embedding.json');
  writeFileSync(embedding, JSON.stringify({ dim: 2, users: { u1: [0.5, -1] }, items: { i1: [1, 0.5], i7: [0.5, 0.5], x0: [1, 1] } }));
  return { recorded: 'recorded', popularity: 'popularity', linear: `linear:${linear}`, embedding: `embedding:${embedding}` };
}

/** -0, NaN and ±Infinity kept apart from 0 and null; typed arrays as plain lists. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v);
    if (ArrayBuffer.isView(v)) return Array.from(v as Float64Array, (x) => (Object.is(x, -0) ? '-0' : Number.isFinite(x) ? x : String(x)));
    return v;
  });
}

/** Everything a stop or a trace shows of the replay where it stands, as canonical text. */
function observe(r: Replayer): string {
  const ex = r.current as EventExec;
  const s = r.state;
  const n = s.ids.length;
  return canonical({
    position: r.position,
    event: {
      id: ex.event.id,
      rows: ex.rows.map((row) => [row.item, row.slot, row.recordedRank, row.score, row.rank, row.prevRank]),
      dropped: ex.dropped,
      stale: ex.stale,
      scores: ex.scores ?? null,
      ranked: ex.ranked,
      served: ex.served,
      fallback: ex.fallback,
      clicks: ex.clicks,
      source: ex.outcomeSource,
      latencyMs: ex.latencyMs,
      faults: ex.faults,
      metrics: ex.metrics ?? null,
    },
    trace: ex.stagesDone === STAGES.length ? traceLine(ex, s.ids, (id) => s.peek(id)) : null,
    state: {
      ids: s.ids,
      columns: [s.impressions, s.clicks, s.updatedAt, s.prevRank, s.prevStamp, s.loggedClicks, s.loggedExamination].map((c) => c.subarray(0, n)),
      lastEventT: s.lastEventT,
      eventsDone: s.eventsDone,
      loggedClicksAll: s.loggedClicksAll,
      loggedExaminationAll: s.loggedExaminationAll,
    },
    metrics: r.metrics.snapshot(),
    saved: r.metrics.save(),
  });
}

/** Where a seek may go: anywhere, a checkpoint (or either side of one), the first or the last event. */
const moveArb = fc.record({
  kind: fc.constantFrom('any', 'any', 'checkpoint', 'first', 'last', 'next'),
  at: fc.nat(10_000),
  side: fc.constantFrom(-1, 0, 1),
  stage: fc.nat(STAGES.length),
});
type Move = typeof moveArb extends fc.Arbitrary<infer T> ? T : never;

function target(m: Move, count: number, every: number, current: number): number {
  const clip = (n: number) => Math.min(count, Math.max(1, n));
  switch (m.kind) {
    case 'first':
      return 1;
    case 'last':
      return count;
    case 'next':
      return clip(current + 1);
    case 'checkpoint':
      return clip(every * (m.at % Math.ceil(count / every)) + 1 + m.side);
    default:
      return (m.at % count) + 1;
  }
}

test('property: over a few hundred events and every built-in ranker, seek(n, stage) — forward, backward, to checkpoints, to the first and the last event — equals a straight replay to (n, stage), and the trace of the events completed around the seeks is the straight trace', async () => {
  const specs = rankerSpecs();
  await fc.assert(
    fc.asyncProperty(
      fc.array(eventArb, { minLength: 100, maxLength: 300 }),
      fc.constantFrom('recorded', 'popularity', 'linear', 'embedding'),
      fc.integer({ min: 1, max: 40 }),
      fc.array(moveArb, { minLength: 1, maxLength: 12 }),
      async (events, rankerName, every, moves) => {
        const dir = sliceOf(events);
        const spec = specs[rankerName] as string;
        const make = (opts: { checkpointEvery?: number; onEventComplete?: (ex: EventExec) => void } = {}) => {
          const slice = Slice.open(dir);
          return new Replayer(slice, { ranker: loadRanker(spec, { slice }), ...opts });
        };
        // The straight replay, stage by stage, with a checkpoint interval no seek below uses.
        const straight: string[][] = [];
        const straightTrace: string[] = [];
        const ref = make({ checkpointEvery: 1e9 });
        try {
          while (ref.advance()) {
            const at = [observe(ref)];
            for (let s = 0; s < STAGES.length; s++) {
              ref.step();
              at.push(observe(ref));
            }
            straight.push(at);
            const ex = ref.current as EventExec;
            straightTrace.push(traceLine(ex, ref.state.ids, (id) => ref.state.peek(id)));
          }
        } finally {
          ref.dispose();
        }
        const count = events.length;
        // Seeks from a fresh replayer: events complete for the first time along the way, as in a debug session.
        const traced: string[] = [];
        const r = make({
          checkpointEvery: every,
          onEventComplete: (ex) => traced.push(traceLine(ex, r.state.ids, (id) => r.state.peek(id))),
        });
        try {
          for (const m of moves) {
            const n = target(m, count, every, r.position.event);
            await r.seek(n, m.stage);
            const want = straight[n - 1]?.[m.stage] as string;
            const got = observe(r);
            if (got !== want) assert.deepStrictEqual(JSON.parse(got), JSON.parse(want), `${rankerName}, every ${every}: seek(${n}, ${m.stage})`);
          }
          await r.runToEnd();
          assert.equal(r.position.event, count);
          assert.equal(observe(r), straight[count - 1]?.[STAGES.length]);
          assert.deepStrictEqual(traced, straightTrace, `${rankerName}, every ${every}: the trace written around the seeks`);
        } finally {
          r.dispose();
        }
      },
    ),
    // No shrinking: a case is a few hundred events, and the seek that differs is named in the message.
    { numRuns: 12, seed: 20251206, endOnFailure: true },
  );
});
