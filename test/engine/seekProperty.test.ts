import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Replayer, type EventExec } from '../../src/core/engine/replay';
import { traceLine } from '../../src/core/engine/traceFormat';
import { CheckpointStore } from '../../src/core/engine/checkpoints';
import { PopularityRanker } from '../../src/core/rankers/builtin';
import { LinearRanker } from '../../src/core/rankers/linear';
import type { Ranker } from '../../src/core/rankers/types';
import { Slice } from '../../src/core/slice/reader';
import { STAGES, type EventRecord, type ItemRecord } from '../../src/core/slice/types';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, tmp } from '../helpers';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A few catalogue items (one with an availability window) and many outside it, so the state grows past its first capacity. */
const ITEMS: ItemRecord[] = [
  { id: 'i0', category: 'a' },
  { id: 'i1', category: 'a' },
  { id: 'i2', category: 'b', available: [{ from: iso(T0 + 5_000), to: iso(T0 + 20_000) }] },
  { id: 'i3' },
];
const POOL = [...ITEMS.map((i) => i.id), ...Array.from({ length: 40 }, (_, i) => `x${i}`)];

const eventArb = fc.record({
  cands: fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 0, maxLength: 7 }),
  scores: fc.array(fc.constantFrom(0.1, 0.5, 0.5, 0.9), { minLength: 7, maxLength: 7 }),
  servedFrom: fc.nat(3),
  click: fc.option(fc.nat(3), { nil: undefined }),
  slowScore: fc.boolean(),
  staleSec: fc.constantFrom(10, 5_000),
  gapMs: fc.constantFrom(0, 1_000, 3_000),
});

type EventSpec = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function sliceOf(specs: readonly EventSpec[]): string {
  let t = T0;
  const events: EventRecord[] = specs.map((s, i) => {
    t += s.gapMs;
    const candidates = s.cands.map((item, j) => ({ item, features: { ctr: s.scores[j] as number }, score: s.scores[j] as number }));
    const served = s.cands.slice(s.servedFrom % 2, (s.servedFrom % 2) + 3);
    const clicked = s.click !== undefined ? served[s.click % Math.max(1, served.length)] : undefined;
    return {
      id: `e${i + 1}`,
      t: iso(t),
      user: `u${i % 2}`,
      candidates,
      served,
      outcome: { clicks: clicked ? [clicked] : [] },
      system: { latencyMs: { retrieve: 5, features: 10, score: s.slowScore ? 120 : 10 + (i % 3), rerank: 1 }, queueDepth: i % 4, cache: { hits: i, misses: 1 } },
      featureTimes: { ctr: iso(t - s.staleSec * 1000) },
    };
  });
  const dir = join(tmp(), 'seek.slice');
  writeSlice(
    dir,
    { manifest: { ...BASE_MANIFEST, pipeline: { k: 3, budgetMs: 100, staleAfterSec: 3600, maxPerCategory: 1 } }, events, items: ITEMS, users: [{ id: 'u0', features: { age: 30 } }, { id: 'u1' }] },
    { frozenAt: '2025-01-02T00:00:00.000Z' },
  );
  return dir;
}

/** Everything a stop or a trace shows of the replay at its position: the event, its trace line, the state and the metrics. */
function observe(r: Replayer) {
  const ex = r.current as EventExec;
  const s = r.state;
  const n = s.ids.length;
  const col = (a: Int32Array | Float64Array) => Array.from(a.subarray(0, n));
  return structuredClone({
    position: r.position,
    event: {
      rows: ex.rows.map((row) => [row.item, row.slot, row.recordedRank, row.score, row.rank, row.prevRank]),
      dropped: ex.dropped,
      stale: ex.stale,
      scores: ex.scores ? Array.from(ex.scores) : null,
      ranked: ex.ranked,
      served: ex.served,
      fallback: ex.fallback,
      clicks: ex.clicks,
      source: ex.outcomeSource,
      latencyMs: ex.latencyMs,
      faults: ex.faults,
      metrics: ex.metrics,
    },
    // Read without adding slots (state.slot would give an unknown id one).
    trace: ex.stagesDone === STAGES.length ? traceLine(ex, s.ids, (id) => s.peek(id)) : null,
    state: {
      ids: s.ids.slice(),
      impressions: col(s.impressions),
      clicks: col(s.clicks),
      updatedAt: col(s.updatedAt),
      prevRank: col(s.prevRank),
      prevStamp: col(s.prevStamp),
      loggedClicks: col(s.loggedClicks),
      loggedExamination: col(s.loggedExamination),
      lastEventT: s.lastEventT,
      eventsDone: s.eventsDone,
      loggedClicksAll: s.loggedClicksAll,
      loggedExaminationAll: s.loggedExaminationAll,
    },
    metrics: r.metrics.snapshot(),
    saved: r.metrics.save(),
  });
}

test('property: seek(n, stage) from any position equals a straight run to (n, stage), on the full state, the event, its trace line and the metrics', async () => {
  const art = join(tmp(), 'linear.json');
  writeFileSync(art, JSON.stringify({ weights: { 'online.ctr': 5, 'online.clicks': 0.2, ctr: 1, 'user.age': 0.01 } }));
  const rankers: Record<string, () => Ranker> = { popularity: () => new PopularityRanker(), linear: () => new LinearRanker(art) };
  const memoryBudget = CheckpointStore.memoryBudget;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('popularity', 'linear'),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(1000), fc.nat(STAGES.length)), { minLength: 1, maxLength: 8 }),
        async (specs, rankerName, every, inMemory, moves) => {
          const dir = sliceOf(specs);
          const count = specs.length;
          // Straight run, stage by stage: what every (n, stage) looks like.
          const straight: ReturnType<typeof observe>[][] = [];
          const ref = new Replayer(Slice.open(dir), { ranker: (rankers[rankerName] as () => Ranker)() });
          try {
            while (ref.advance()) {
              const at = [observe(ref)];
              for (let s = 0; s < STAGES.length; s++) {
                ref.step();
                at.push(observe(ref));
              }
              straight.push(at);
            }
          } finally {
            ref.dispose();
          }
          // Checkpoints in memory (thinned past a tiny budget) or spilled to a file.
          CheckpointStore.memoryBudget = inMemory ? 2_000 : memoryBudget;
          const r = new Replayer(Slice.open(dir), {
            ranker: (rankers[rankerName] as () => Ranker)(),
            checkpointEvery: every,
            spillDir: inMemory ? join(tmp(), 'no-such-folder') : tmp(),
          });
          try {
            await r.runToEnd();
            for (const [m, stage] of moves) {
              const n = (m % count) + 1;
              await r.seek(n, stage);
              assert.deepStrictEqual(observe(r), straight[n - 1]?.[stage], `seek(${n}, ${stage})`);
            }
          } finally {
            r.dispose();
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    CheckpointStore.memoryBudget = memoryBudget;
  }
});
