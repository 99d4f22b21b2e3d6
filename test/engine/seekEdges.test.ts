import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Replayer } from '../../src/core/engine/replay';
import { RecordedRanker } from '../../src/core/rankers/builtin';
import { Slice } from '../../src/core/slice/reader';
import type { EventRecord } from '../../src/core/slice/types';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, fixture, makeSlice, openOn, tmp, turnCounter } from '../helpers';
import { spillParentName } from '../../src/core/engine/checkpoints';

/** A slice whose system figures are each finite but whose running sums overflow. */
function overflowSlice(systems: EventRecord['system'][]): string {
  const dir = join(tmp(), 'overflow.slice');
  const events: EventRecord[] = systems.map((system, i) => ({
    id: `e${i + 1}`,
    t: new Date(Date.parse('2025-01-01T00:00:00Z') + (i + 1) * 1000).toISOString(),
    user: 'u1',
    candidates: [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.5 }],
    served: ['a', 'b'],
    outcome: { clicks: ['a'] },
    ...(system ? { system } : {}),
  }));
  writeSlice(dir, { manifest: BASE_MANIFEST, events, items: [{ id: 'a' }, { id: 'b' }], users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return dir;
}

/** Straight-run snapshots after each event, then every seek(n, 6) in both directions must match them. */
async function assertSeeksMatchStraightRun(dir: string): Promise<Record<string, number>[]> {
  const straight: Record<string, number>[] = [];
  const r = new Replayer(Slice.open(dir), {
    ranker: new RecordedRanker(),
    checkpointEvery: 2,
    spillDir: tmp(),
    onEventComplete: (ex) => void (straight[ex.n] = { ...r.metrics.snapshot() }),
  });
  try {
    await r.runToEnd();
    const count = r.eventCount;
    const order = [...Array.from({ length: count }, (_, i) => count - i), ...Array.from({ length: count }, (_, i) => i + 1)];
    for (const n of order) {
      await r.seek(n, 6);
      // deepStrictEqual compares with Object.is: Infinity and NaN must come back as they were.
      assert.deepStrictEqual(r.metrics.snapshot(), straight[n], `seek(${n}, 6)`);
    }
  } finally {
    r.dispose();
  }
  return straight;
}

test('seek reproduces a straight run whose queue depths sum past the largest double (finite figures, checkpointEvery 2); the mean is still the mean', async () => {
  const straight = await assertSeeksMatchStraightRun(overflowSlice(Array.from({ length: 6 }, () => ({ queueDepth: 1e308 }))));
  assert.equal(straight[6]?.['queue_depth.mean'], 1e308);
  assert.equal(straight[6]?.['queue_depth'], 1e308);
});

test('seek reproduces a straight run whose cache figures sum past the largest double and whose latency total overflows to Infinity; negative figures are refused', async () => {
  const straight = await assertSeeksMatchStraightRun(
    overflowSlice([
      { cache: { hits: 1e308, misses: 1e308 } },
      { cache: { hits: 1e308, misses: 0 } },
      { cache: { hits: 1, misses: 1 }, latencyMs: { retrieve: 1e308, score: 1e308 } },
      undefined,
      { queueDepth: 2 },
    ]),
  );
  // 2e308 hits of 3e308 lookups: 2/3 (the sums had overflowed: the rate read NaN).
  assert.equal(straight[2]?.['cache_hit_rate'], 2 / 3);
  // A count or latency below 0 is refused where the slice is written (and read): sums of figures of
  // one sign cannot meet an Infinity of the other sign and turn into NaN.
  for (const system of [{ queueDepth: -1 }, { cache: { hits: -1, misses: 2 } }, { latencyMs: { score: -0.5 } }]) {
    assert.throws(() => overflowSlice([system]), /cannot be below 0/);
  }
});

test('seek(n, stage) refuses a stage that is not an integer 0..6 before moving', async () => {
  const r = new Replayer(Slice.open(makeSlice(20)), { ranker: new RecordedRanker(), checkpointEvery: 4, spillDir: tmp() });
  try {
    await r.seek(9, 2);
    for (const bad of [2.5, -1, Number.NaN, 7, Infinity, -Infinity, 1e9]) {
      await assert.rejects(r.seek(5, bad), (e: unknown) => e instanceof RangeError && e.message === `stage ${bad} is outside 0..6`, `stage ${bad}`);
      assert.deepEqual(r.position, { event: 9, stage: 2 }, `seek(5, ${bad}) did not move`);
    }
    // The event is still checked, and first.
    await assert.rejects(r.seek(21, 7), /event 21 is outside 1..20/);
    for (const stage of [0, 6, 3]) {
      await r.seek(5, stage);
      assert.deepEqual(r.position, { event: 5, stage });
    }
  } finally {
    r.dispose();
  }
});

test('a disposed replayer refuses to move and reopens nothing; dispose() is idempotent', async () => {
  const spill = tmp();
  const slice = Slice.open(makeSlice(30));
  const r = new Replayer(slice, { ranker: new RecordedRanker(), checkpointEvery: 5, spillDir: spill });
  await r.seek(12, 3);
  assert.ok(existsSync(join(spill, spillParentName())), 'checkpoints spilled while live');
  r.dispose();
  assert.deepEqual(readdirSync(spill), []);
  let reads = 0;
  const events = slice.events.bind(slice);
  slice.events = (...args: Parameters<Slice['events']>) => {
    reads++;
    return events(...args);
  };
  const disposed = /the replayer was disposed/;
  await assert.rejects(r.seek(20, 6), disposed);
  await assert.rejects(r.seek(1), disposed);
  await assert.rejects(r.runToEnd(), disposed);
  assert.throws(() => r.advance(), disposed);
  assert.throws(() => r.step(), disposed);
  assert.throws(() => r.finishEvent(), disposed);
  assert.equal(reads, 0, 'the events file was not read again');
  assert.deepEqual(readdirSync(spill), [], 'no spill folder was created');
  assert.deepEqual(r.position, { event: 12, stage: 3 });
  r.dispose();
  r.dispose();
  assert.deepEqual(readdirSync(spill), []);
});

test('a seek over large events and a large catalogue gives the event loop turns (restore pieces, re-execution by candidates), and lands where a straight run does', async () => {
  const dir = join(tmp(), 'wide.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(120, { items: 70_000, cands: 400 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const s = Slice.open(dir);
  const r = new Replayer(s, { ranker: new RecordedRanker(), checkpointEvery: 50 });
  const at: unknown[] = [];
  try {
    while (r.advance()) {
      await r.finishEvent();
      at.push(r.current?.metrics);
    }
    const counter = turnCounter();
    // From the checkpoint before event 101 (taken at 101 − 50 = 51): restored, then 49 events of 400 candidates re-executed.
    await r.seek(100, 6);
    counter.stop();
    assert.ok(counter.turns >= 3, `${counter.turns} turns during the seek`);
    assert.deepEqual(r.current?.metrics, at[99]);
  } finally {
    r.dispose();
    s.close();
  }
});

test('a replayer disposed while a seek waits for its turn: the seek stops there, calls no ranker and reopens no file', async () => {
  const dir = join(tmp(), 'long.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(600, { items: 300, cands: 200 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const s = Slice.open(dir);
  let scoredAfter = 0;
  let disposed = false;
  const inner = new RecordedRanker();
  const ranker = { info: inner.info, score: (req: Parameters<RecordedRanker['score']>[0]) => ((scoredAfter += disposed ? 1 : 0), inner.score(req)) };
  const r = new Replayer(s, { ranker, checkpointEvery: 1000 });
  while (r.advance()) await r.finishEvent();
  const seeking = r.seek(590, 6);
  await new Promise((resolve) => setImmediate(resolve));
  r.dispose();
  disposed = true;
  s.close();
  await assert.rejects(seeking, /the replayer was disposed/);
  assert.equal(scoredAfter, 0, 'no ranker call after dispose');
  assert.equal(openOn(join(dir, 'events.jsonl')), 0, 'events.jsonl is not open');
});

test('a replayer disposed while runToEnd waits for an asynchronous ranker: the run stops there, calls no ranker, reopens no file and leaves no spill folder', async () => {
  const spill = tmp();
  const dir = makeSlice(60);
  const s = Slice.open(dir);
  const inner = new RecordedRanker();
  let disposed = false;
  let scoredAfter = 0;
  const ranker = {
    info: inner.info,
    score: async (req: Parameters<RecordedRanker['score']>[0]) => {
      scoredAfter += disposed ? 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 1));
      return inner.score(req);
    },
  };
  const r = new Replayer(s, { ranker, checkpointEvery: 5, spillDir: spill });
  const running = r.runToEnd();
  // Into the run, past a few checkpoints, then the session ends.
  while (r.position.event < 12) await new Promise((resolve) => setTimeout(resolve, 1));
  r.dispose();
  disposed = true;
  assert.deepEqual(readdirSync(spill), [], 'dispose took the spill folder away');
  await assert.rejects(running, /the replayer was disposed/);
  assert.equal(scoredAfter, 0, 'no ranker call after dispose');
  assert.ok(r.position.event < 20, `the run stopped where it was disposed (at event ${r.position.event}, not the last)`);
  assert.deepEqual(readdirSync(spill), [], 'no spill folder was made again');
  assert.equal(openOn(join(dir, 'events.jsonl')), 0, 'events.jsonl is not open');
});

test('a seek told it is interrupted stops at the end of an event before its target, in the state a straight run had there, and resolves false', async () => {
  const dir = join(tmp(), 'interrupt.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(600, { items: 300, cands: 200 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const s = Slice.open(dir);
  const straight: unknown[] = [];
  const r = new Replayer(s, { ranker: new RecordedRanker(), checkpointEvery: 1000, onEventComplete: (ex) => void (straight[ex.n] = ex.metrics) });
  try {
    while (r.advance()) await r.finishEvent();
    // 200 candidates an event: a turn every ~80 events. Asked at the first turn, and at no other.
    let asked = 0;
    assert.equal(await r.seek(590, 6, () => ++asked === 1), false);
    const at = r.current;
    assert.ok(at && at.n > 1 && at.n < 590, `stopped on the way, at event ${at?.n}`);
    assert.equal(at.stagesDone, 6);
    assert.deepEqual(at.metrics, straight[at.n]);
    assert.equal(asked, 1);
    // Not interrupted: it reaches the target (and says so), from where it stopped.
    assert.equal(await r.seek(590, 6, () => false), true);
    assert.deepEqual(r.current?.metrics, straight[590]);
    assert.equal(await r.seek(3, 2), true);
    assert.deepEqual(r.position, { event: 3, stage: 2 });
  } finally {
    r.dispose();
    s.close();
  }
});

test('a replayer disposed while a step or finishEvent waits for an asynchronous ranker: the event goes no further, and onEventComplete never sees it', async () => {
  const dir = makeSlice(5);
  for (const move of ['step', 'finishEvent'] as const) {
    const s = Slice.open(dir);
    const inner = new RecordedRanker();
    let release: () => void = () => {};
    const ranker = { info: inner.info, score: async (req: Parameters<RecordedRanker['score']>[0]) => (await new Promise<void>((resolve) => (release = resolve)), inner.score(req)) };
    const completed: number[] = [];
    const r = new Replayer(s, { ranker, onEventComplete: (ex) => void completed.push(ex.n) });
    try {
      r.advance();
      // retrieve and features are synchronous; score waits for the ranker.
      for (let i = 0; i < 2; i++) await r.step();
      const moving = move === 'step' ? r.step() : r.finishEvent();
      assert.ok(moving instanceof Promise, 'the score stage waits for the ranker');
      r.dispose();
      release();
      await assert.rejects(moving, /the replayer was disposed/);
      assert.equal(r.current?.stagesDone, 2, `${move}: the score stage was not counted done`);
      assert.deepEqual(completed, [], `${move}: no event completed after dispose`);
    } finally {
      r.dispose();
      s.close();
    }
  }
});
