import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import vm from 'node:vm';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { Replayer, type EventExec } from '../../src/core/engine/replay';
import { runHeadless, CancelledError } from '../../src/core/engine/run';
import { TRACE_FORMAT, TraceWriter } from '../../src/core/engine/trace';
import { loadRanker } from '../../src/core/rankers';
import { EventCursor } from '../../src/core/slice/cursor';
import { BlockPrefetcher } from '../../src/core/slice/prefetch';
import { PopularityRanker, RecordedRanker } from '../../src/core/rankers/builtin';
import type { Ranker } from '../../src/core/rankers/types';
import { UserError } from '../../src/core/errors';
import { STAGES, type EventRecord, type ItemRecord, type PipelineSettings } from '../../src/core/slice/types';
import { writeSlice } from '../../src/core/slice/writer';
import { CandidateRow } from '../../src/core/engine/rows';
import { eventLine, makeSlice, rawSlice, tmp } from '../helpers';
import { spillParentName } from '../../src/core/engine/checkpoints';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'tester', host: 'ci', cwd: process.cwd() };

/** What must be equal between two executions of the same event. */
function essence(ex: EventExec) {
  return { n: ex.n, scores: Array.from(ex.scores ?? []), ranked: ex.ranked, served: ex.served, clicks: ex.clicks, fallback: ex.fallback, faults: ex.faults, metrics: ex.metrics, latency: ex.latencyMs };
}

test('determinism: two runs with the same slice, ranker and seed write byte-identical traces', async () => {
  const dir = makeSlice(120);
  const a = tmp();
  const b = tmp();
  const r1 = await runHeadless({ slice: dir, ranker: 'popularity', traceDir: a }, host);
  const r2 = await runHeadless({ slice: dir, ranker: 'popularity', traceDir: b }, { ...host, now: () => '2031-05-05T00:00:00.000Z' });
  r1.replayer.dispose();
  r2.replayer.dispose();
  assert.equal(readFileSync(join(a, 'trace.jsonl'), 'utf8'), readFileSync(join(b, 'trace.jsonl'), 'utf8'));
  assert.equal(r1.traceSha256, r2.traceSha256);
  // The click model draws from the seed: another seed changes simulated outcomes.
  const r3 = await runHeadless({ slice: dir, ranker: 'popularity', seed: 99 }, host);
  r3.replayer.dispose();
  assert.notEqual(r3.traceSha256, r1.traceSha256);
});

test('run record: config, slice hash, versions, seed, tool, times and user beside the trace', async () => {
  const dir = makeSlice(20);
  const out = tmp();
  const r = await runHeadless({ slice: dir, ranker: 'recorded', traceDir: out, seed: 5 }, host);
  r.replayer.dispose();
  const rec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(rec.seed, 5);
  assert.equal(rec.user, 'tester');
  assert.equal(rec.slice.manifestSha256, Slice.open(dir).manifestSha256);
  assert.equal(rec.tool.name, 'recreplay');
  assert.equal(rec.trace.sha256, r.traceSha256);
  assert.equal(rec.config.ranker.kind, 'recorded');
  assert.equal(rec.startedAt, '2025-01-01T00:00:00.000Z');
  assert.equal(rec.events, 20);
  const lines = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 21, 'header + one line per event');
  const first = JSON.parse(lines[1] as string);
  assert.deepEqual(Object.keys(first.stages), [...STAGES]);
  assert.equal(first.stages.score.ms, 11);
});

test('stepping stage by stage gives the same result as whole events', async () => {
  const dir = makeSlice(30);
  const a = new Replayer(Slice.open(dir), { ranker: new PopularityRanker() });
  const b = new Replayer(Slice.open(dir), { ranker: new PopularityRanker() });
  for (let n = 1; n <= 30; n++) {
    a.advance();
    b.advance();
    for (let s = 0; s < STAGES.length; s++) {
      assert.equal(a.nextStage, STAGES[s]);
      a.step();
      assert.equal(a.position.stage, s + 1);
    }
    b.finishEvent();
    assert.deepEqual(essence(a.current as EventExec), essence(b.current as EventExec));
  }
  assert.equal(a.advance(), false);
});

test('seek restores the nearest checkpoint and re-executes to exactly the state of a straight run', async () => {
  const dir = makeSlice(200);
  const straight: ReturnType<typeof essence>[] = [];
  const ref = new Replayer(Slice.open(dir), { ranker: new PopularityRanker(), onEventComplete: (ex) => straight.push(essence(ex)) });
  await ref.runToEnd();
  const snapEnd = ref.metrics.snapshot();
  const r = new Replayer(Slice.open(dir), { ranker: new PopularityRanker(), checkpointEvery: 16 });
  await r.runToEnd();
  for (const n of [200, 1, 17, 16, 150, 33, 199, 2, 64, 65]) {
    await r.seek(n, STAGES.length);
    assert.deepEqual(essence(r.current as EventExec), straight[n - 1], `event ${n}`);
  }
  // Partway into an event: stage positions are honoured.
  await r.seek(77, 2);
  assert.deepEqual(r.position, { event: 77, stage: 2 });
  assert.equal(r.nextStage, 'score');
  await r.seek(200, STAGES.length);
  assert.deepEqual(r.metrics.snapshot(), snapEnd);
  await assert.rejects(() => r.seek(201), RangeError);
  r.dispose();
  ref.dispose();
});

test('checkpoints spill to disk instead of growing memory', async () => {
  const dir = makeSlice(100);
  const spill = tmp();
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker(), checkpointEvery: 5, spillDir: spill });
  await r.runToEnd();
  const parent = join(spill, spillParentName());
  const ckDir = readdirSync(parent).find((d) => d.startsWith(`${process.pid}-`));
  assert.ok(ckDir, 'a spill file exists');
  await r.seek(3, 6);
  assert.equal(r.position.event, 3);
  r.dispose();
  assert.equal(existsSync(join(parent, ckDir as string)), false, 'dispose removes the spill');
  assert.deepEqual(readdirSync(spill), [], 'and the spill parent it no longer needs');
});

test('retrieve drops unavailable items; the fallback is served when the latency budget breaks', async () => {
  const ev = (id: string, t: string, score: number) => eventLine(id, t, { system: { latencyMs: { retrieve: 10, features: 10, score, rerank: 1 } } });
  const dir = rawSlice([ev('e1', '2025-01-01T00:00:00Z', 10), ev('e2', '2025-01-01T00:00:01Z', 500)].join('\n') + '\n', (m) => {
    m.pipeline = { k: 2, budgetMs: 100 };
  });
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker() });
  await r.runToEnd();
  const last = r.current as EventExec;
  assert.equal(last.fallback, true);
  assert.ok(last.faults.some((f) => f.kind === 'over_budget'));
  assert.equal(r.metrics.snapshot()['fallback_rate'], 0.5);
});

test('candidate rows come from the CandidateRow constructor, fields in their documented order', () => {
  // Not object literals: V8 may pretenure a literal whose first objects survive a collection, and
  // then every later event's rows go straight to the old generation (see rows.ts).
  const r = new Replayer(Slice.open(makeSlice(3)), { ranker: new RecordedRanker() });
  r.advance();
  r.finishEvent();
  const ex = r.current as EventExec;
  assert.ok(ex.rows.length > 0 && ex.rows.every((row) => row instanceof CandidateRow));
  assert.deepEqual(Object.keys(ex.rows[0] as object), ['item', 'slot', 'rec', 'itemRec', 'recordedRank', 'score', 'rank', 'prevRank']);
  r.dispose();
});

test('kendall tau leaves out events no candidate of which got a finite score (the ranker failed, or gave NaN for all): their order is the recording\'s, no model\'s', async () => {
  const dir = makeSlice(6);
  const tau = async (ranker: Ranker) => {
    const r = new Replayer(Slice.open(dir), { ranker });
    try {
      await r.runToEnd();
      return { tau: r.metrics.value('kendall_tau'), events: r.metrics.value('events') };
    } finally {
      r.dispose();
    }
  };
  const failing: Ranker = { info: { kind: 'test' }, score: () => { throw new Error('model server down'); } };
  const allNaN: Ranker = { info: { kind: 'test' }, score: (req) => req.rows.map(() => Number.NaN) };
  // Down for the whole run: no event with a tau (0 by the metrics' rule for a mean of nothing), not 1.
  assert.deepEqual(await tau(failing), { tau: 0, events: 6 });
  assert.deepEqual(await tau(allNaN), { tau: 0, events: 6 });
  // One finite score is a model's order again (NaNs sort last): tau is taken.
  const oneFinite: Ranker = { info: { kind: 'test' }, score: (req) => req.rows.map((_, i) => (i === req.rows.length - 1 ? 1 : Number.NaN)) };
  assert.notEqual((await tau(oneFinite)).tau, 0);
});

test('kendall tau leaves out candidates the recording logged with the same score: a replay that orders them otherwise than candidate order still agrees', async () => {
  // a served; b..e not served, all logged at 0.5 (cold-start items at one default score, as in the example slice).
  const candidates = [{ item: 'a', score: 0.9 }, ...['b', 'c', 'd', 'e'].map((item) => ({ item, score: 0.5 }))];
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:01Z', { candidates, served: ['a'] }) + '\n', (m) => {
    m.pipeline = { k: 1, budgetMs: 1000 };
  });
  const tau = async (ranker: Ranker) => {
    const r = new Replayer(Slice.open(dir), { ranker });
    try {
      await r.runToEnd();
      return (r.current as EventExec).metrics?.kendallTau;
    } finally {
      r.dispose();
    }
  };
  const order: Record<string, number> = { a: 5, b: 1, c: 2, d: 3, e: 4 };
  // a above the rest, as recorded; the tied ones reversed: 4 concordant pairs, 6 the recording did not order (−0.2 before).
  assert.equal(await tau({ info: { kind: 'test' }, score: (req) => req.rows.map((row) => order[row.item] as number) }), 1);
  // a below the rest: the 4 pairs the recording ordered are discordant.
  assert.equal(await tau({ info: { kind: 'test' }, score: (req) => req.rows.map((row) => (row.item === 'a' ? 0 : order[row.item] as number)) }), -1);
  assert.equal(await tau(new RecordedRanker()), 1);
});

test('faults: NaN score, ranker error and empty slate are detected, not crashes', async () => {
  const dir = makeSlice(3);
  const nan: Ranker = { info: { kind: 'test' }, score: (req) => req.rows.map((_, i) => (i === 0 ? Number.NaN : i)) };
  const r = new Replayer(Slice.open(dir), { ranker: nan });
  r.advance();
  r.finishEvent();
  const ex = r.current as EventExec;
  assert.ok(ex.faults.some((f) => f.kind === 'nan_score'));
  assert.equal(ex.ranked[ex.ranked.length - 1], ex.rows[0]?.item, 'NaN sorts last');
  const failing: Ranker = { info: { kind: 'test' }, score: () => { throw new Error('model server down'); } };
  const r2 = new Replayer(Slice.open(dir), { ranker: failing });
  r2.advance();
  r2.finishEvent();
  assert.ok((r2.current as EventExec).faults.some((f) => f.kind === 'ranker_error' && /model server down/.test(f.message)));
  assert.equal((r2.current as EventExec).fallback, true);
  const empty = rawSlice(JSON.stringify({ id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [], served: [] }) + '\n');
  const r3 = new Replayer(Slice.open(empty), { ranker: new RecordedRanker() });
  await r3.runToEnd();
  assert.ok((r3.current as EventExec).faults.some((f) => f.kind === 'empty_slate'));
});

test('divergence compares the served slate with what the recorded top k could share: a recorded short slate served as recorded does not fire', async () => {
  const t = (s: number) => `2025-01-01T00:00:0${s}Z`;
  const cands = (ids: string) => ids.split(' ').map((item, i) => ({ item, score: 0.9 - i / 10 }));
  const lines = [
    // Served exactly as recorded: 4 of 4 (overlap@10 is 0.4, since the metric divides by k).
    eventLine('e1', t(1), { candidates: cands('a b c d'), served: ['a', 'b', 'c', 'd'] }),
    // Only 2 of the 4 recorded items can be served: 2 of 4 = 0.5, not below the threshold.
    eventLine('e2', t(2), { candidates: cands('a b'), served: ['a', 'b', 'c', 'd'] }),
    // Production served 8 other items: 2 of the recorded top 10 (p..w, a, b) = 0.2.
    eventLine('e3', t(3), { candidates: cands('a b c d'), served: ['p', 'q', 'r', 's', 't', 'u', 'v', 'w'] }),
  ];
  const dir = rawSlice(lines.join('\n') + '\n', (m) => {
    m.pipeline = { k: 10, budgetMs: 1000 };
  });
  const seen: { served: string[]; overlap: number | undefined; divergence: EventExec['faults'] }[] = [];
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker(), onEventComplete: (ex) => seen.push({ served: ex.served, overlap: ex.metrics?.overlap, divergence: ex.faults.filter((f) => f.kind === 'divergence') }) });
  try {
    await r.runToEnd();
  } finally {
    r.dispose();
  }
  const [e1, e2, e3] = seen;
  assert.deepEqual(e1?.served, ['a', 'b', 'c', 'd']);
  assert.equal(e1?.overlap, 0.4, 'the overlap@k metric stays as pinned');
  assert.deepEqual(e1?.divergence, [], 'a replay identical to the recording is no divergence');
  assert.deepEqual(e2?.served, ['a', 'b']);
  assert.deepEqual(e2?.divergence, []);
  assert.equal(e3?.divergence.length, 1);
  assert.equal(e3?.divergence[0]?.value, 0.2);
  assert.match(e3?.divergence[0]?.message ?? '', /is 0\.20: 2 of 10 in common between the 4 served and the recorded top 10/);
});

test('an asynchronous ranker that returns the wrong number of scores is a ranker_error with the fallback served, as a synchronous one is', async () => {
  const dir = makeSlice(3);
  const run = async (ranker: Ranker) => {
    const r = new Replayer(Slice.open(dir), { ranker });
    try {
      await r.runToEnd();
      return essence(r.current as EventExec);
    } finally {
      r.dispose();
    }
  };
  const sync = await run({ info: { kind: 'short' }, score: () => new Float64Array([1]) });
  const async = await run({ info: { kind: 'short' }, score: async () => new Float64Array([1]) });
  assert.equal(async.fallback, true);
  assert.ok(async.faults.some((f) => f.kind === 'ranker_error' && /ranker returned 1 scores for 8 candidates/.test(f.message)));
  assert.deepEqual(async, sync);
});

test('an asynchronous ranker is awaited (the seam for process and HTTP rankers)', async () => {
  const dir = makeSlice(10);
  const slow: Ranker = { info: { kind: 'async' }, score: async (req) => req.rows.map((r) => r.rec.score ?? 0) };
  const a = await runHeadless({ slice: dir, ranker: 'recorded' }, host);
  const r = new Replayer(Slice.open(dir), { ranker: slow });
  await r.runToEnd();
  assert.deepEqual(r.metrics.snapshot(), a.replayer.metrics.snapshot());
});

test('a Ranker object of your own runs headless with a trace and run record, and stays undisposed (it is the caller\'s)', async () => {
  const dir = makeSlice(30);
  const out = tmp();
  let disposed = 0;
  const mine: Ranker = { info: { kind: 'mine', version: '3' }, score: (req) => Float64Array.from(req.rows, (r) => -(r.rec.score ?? 0)), dispose: () => void disposed++ };
  const r = await runHeadless({ slice: dir, ranker: mine, traceDir: out }, host);
  r.replayer.dispose();
  assert.equal(r.events, 30);
  assert.equal(disposed, 0);
  const rec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.deepEqual(rec.config.ranker, { kind: 'mine', version: '3' });
  assert.equal(JSON.parse(readFileSync(join(out, 'trace.jsonl'), 'utf8').split('\n')[0] as string).ranker.kind, 'mine');
  // The same scores as a spec would give the same replay: here, the recorded order reversed.
  const recorded = await runHeadless({ slice: dir, ranker: 'recorded' }, host);
  recorded.replayer.dispose();
  assert.notDeepEqual(r.metrics, recorded.metrics);
});

/** Records every slice Slice.open opens and every one closed, until restore(). */
function watchSliceOpens(): { opened: Slice[]; closed: Set<Slice>; restore: () => void } {
  const opened: Slice[] = [];
  const closed = new Set<Slice>();
  const open = Slice.open.bind(Slice);
  const close = Slice.prototype.close;
  Slice.open = (...a: Parameters<typeof Slice.open>) => {
    const s = open(...a);
    opened.push(s);
    return s;
  };
  Slice.prototype.close = function (this: Slice) {
    closed.add(this);
    close.call(this);
  };
  return {
    opened,
    closed,
    restore: () => {
      Slice.open = open;
      Slice.prototype.close = close;
    },
  };
}

test('a ranker that cannot be loaded leaves no open slice and no reader thread behind', async () => {
  // Three chunks or more: Slice.open starts its reader thread at once for a headless run.
  const dir = makeSlice(120, { chunkSize: 1024 });
  const { opened, closed, restore } = watchSliceOpens();
  try {
    const started = Slice.prefetchesStarted;
    await assert.rejects(runHeadless({ slice: dir, ranker: 'linear:/no/such/model.json' }, host), /linear artifact not found/);
    assert.equal(Slice.prefetchesStarted, started + 1, 'the open started a reader thread');
    assert.equal(opened.length, 1);
    assert.ok(closed.has(opened[0] as Slice), 'the slice was closed, and with it its reader thread');
  } finally {
    restore();
  }
});

test('a seed or checkpoint interval the replayer refuses leaves no open slice, no reader thread and no undisposed ranker behind', async () => {
  // Three chunks or more: Slice.open starts its reader thread at once for a headless run.
  const dir = makeSlice(120, { chunkSize: 1024 });
  const { opened, closed, restore } = watchSliceOpens();
  // A spec ranker is runHeadless's own to dispose: a linear artifact, watched through its prototype.
  const art = join(tmp(), 'lin.json');
  writeFileSync(art, JSON.stringify({ weights: { ctr: 1 } }));
  const proto = Object.getPrototypeOf(loadRanker(`linear:${art}`)) as { dispose?: () => void };
  const ownDispose = proto.dispose;
  let disposed = 0;
  proto.dispose = function (this: unknown) {
    disposed++;
    return ownDispose?.call(this);
  };
  try {
    for (const bad of [{ checkpointEvery: 0 }, { seed: -1 }]) {
      await assert.rejects(runHeadless({ slice: dir, ranker: `linear:${art}`, ...bad }, host), RangeError);
    }
    assert.equal(opened.length, 2);
    assert.ok(opened.every((s) => closed.has(s)), 'every slice opened was closed, and with it its reader thread');
    assert.equal(disposed, 2, 'the ranker runHeadless loaded was disposed');
  } finally {
    restore();
    if (ownDispose) proto.dispose = ownDispose;
    else delete proto.dispose;
  }
});

test('events out of time order stop the replay with file:line', async () => {
  const dir = rawSlice([eventLine('e1', '2025-01-01T00:00:05Z'), eventLine('e2', '2025-01-01T00:00:01Z')].join('\n') + '\n');
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker() });
  await assert.rejects(() => r.runToEnd(), (e: unknown) => e instanceof UserError && e.where.line === 2 && /out of time order/.test(e.describe()));
});

test('stale features are flagged from featureTimes', async () => {
  const dir = rawSlice(eventLine('e1', '2025-01-10T00:00:00Z', { featureTimes: { x: '2025-01-01T00:00:00Z' } }) + '\n', (m) => {
    m.pipeline = { k: 2, budgetMs: 100, staleAfterSec: 3600 };
  });
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker() });
  await r.runToEnd();
  const ex = r.current as EventExec;
  assert.deepEqual(ex.stale, [{ name: 'x', ageSec: 9 * 86400 }]);
  assert.ok(ex.faults.some((f) => f.kind === 'stale_feature'));
});

test('a cancelled run writes no trace', async () => {
  const dir = makeSlice(2500);
  const out = tmp();
  await assert.rejects(() => runHeadless({ slice: dir, ranker: 'recorded', traceDir: out, isCancelled: () => true }, host), CancelledError);
  assert.deepEqual(readdirSync(out), []);
});

test('a cancellation that arrives while a synchronous ranker replays is seen within 1,000 events', async () => {
  // The flag is set from the event loop (as a Ctrl-C handler or a cancellation token would be):
  // the replay must yield to it, not only check a flag nobody can set until it ends.
  const dir = makeSlice(6000);
  const out = tmp();
  let cancel = false;
  let last = 0;
  setImmediate(() => (cancel = true));
  await assert.rejects(
    () => runHeadless({ slice: dir, ranker: 'recorded', traceDir: out, isCancelled: () => cancel, onProgress: (n) => (last = n) }, host),
    CancelledError,
  );
  assert.ok(last <= 2000, `cancelled at event ${last}, not within 1,000 events of the first yield`);
  assert.deepEqual(readdirSync(out), []);
});

test('popularity state feeds back: every event is ranked by the clicks of the events before it', async () => {
  const dir = makeSlice(300);
  // Clicks counted here, independently of the replay state, from what each replayed event credited.
  const clicks = new Map<string, number>();
  let reordered = 0;
  let checked = 0;
  const r = new Replayer(Slice.open(dir), {
    ranker: new PopularityRanker(),
    onEventComplete: (ex) => {
      const counts = ex.ranked.map((id) => clicks.get(id) ?? 0);
      for (let i = 1; i < counts.length; i++) assert.ok((counts[i - 1] as number) >= (counts[i] as number), `event ${ex.n}: ${ex.ranked.join(',')} is not in order of past clicks ${counts.join(',')}`);
      checked++;
      if (ex.ranked[0] !== ex.event.candidates[0]?.item) reordered++;
      for (const id of ex.clicks) clicks.set(id, (clicks.get(id) ?? 0) + 1);
    },
  });
  await r.runToEnd();
  assert.equal(checked, 300);
  assert.ok([...clicks.values()].reduce((a, b) => a + b, 0) > 20, 'the fixture has clicks');
  assert.ok(reordered > 100, `past clicks reorder the candidates (${reordered} of 300 events)`);
  // The replay state holds the same counts.
  for (const [id, n] of clicks) assert.equal(r.state.clicks[r.state.slot(id)], n, id);
  assert.equal(r.state.impressions.reduce((a, b) => a + b, 0), 300 * 4);
});

test('determinism across threads: events parsed partly by the reader thread give the trace of events parsed on the engine thread alone', async () => {
  const dir = makeSlice(300, { chunkSize: 2048 });
  // A ranker that reads the candidates' features, so a feature rebuilt wrong changes the scores.
  const artifact = join(tmp(), 'linear.json');
  writeFileSync(artifact, JSON.stringify({ weights: { ctr: 2, fresh: 0.5 }, bias: -0.25 }));
  const spec = `linear:${artifact}`;
  const [wasPiece, wasAfter] = [EventCursor.pieceSize, Slice.prefetchAfterBlocks];
  try {
    // A run to the end: the reader thread reads ahead from the second block and digests pieces.
    EventCursor.pieceSize = 256;
    const started = Slice.prefetchesStarted;
    const shared = await runHeadless({ slice: dir, ranker: spec, traceDir: tmp() }, host);
    shared.replayer.dispose();
    assert.ok(Slice.prefetchesStarted > started, 'the reader thread took part');
    // Stepping event by event with read-ahead off: every line parsed on this thread.
    Slice.prefetchAfterBlocks = Infinity;
    const slice = Slice.open(dir);
    const sink: { trace?: TraceWriter } = {};
    const ranker = loadRanker(spec, { slice });
    const r = new Replayer(slice, { ranker, onEventComplete: (ex) => sink.trace?.write(ex, r.state) });
    const trace = new TraceWriter(tmp(), { format: TRACE_FORMAT, slice: slice.manifest.name, sliceManifestSha256: slice.manifestSha256, ranker: { kind: ranker.info.kind, artifactSha256: ranker.info.artifactSha256 as string }, seed: r.seed, k: r.pipeline.k, budgetMs: r.pipeline.budgetMs, events: slice.eventCount }, r.state);
    sink.trace = trace;
    while (r.advance()) await r.finishEvent();
    const alone = await trace.close(r.state);
    r.dispose();
    assert.equal(alone.events, 300);
    assert.equal(alone.sha256, shared.traceSha256);
  } finally {
    EventCursor.pieceSize = wasPiece;
    Slice.prefetchAfterBlocks = wasAfter;
  }
});

test('a system.cache with one figure is not counted (it made the totals NaN and every later checkpoint unrestorable)', async () => {
  const lines: string[] = [];
  for (let i = 1; i <= 40; i++) {
    const cache = i === 7 ? { hits: 9 } : { hits: 3, misses: 1 };
    lines.push(eventLine(`e${i}`, `2025-01-01T00:00:${String(i).padStart(2, '0')}Z`, { system: { queueDepth: i % 5, cache } }));
  }
  const dir = rawSlice(lines.join('\n') + '\n');
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker(), checkpointEvery: 10 });
  try {
    await r.runToEnd();
    assert.equal(r.metrics.snapshot()['cache_hit_rate'], 0.75, '39 events of 3 hits in 4 lookups');
    for (const n of [12, 35, 40, 3]) {
      await r.seek(n, STAGES.length);
      assert.equal((r.current as EventExec).n, n);
    }
  } finally {
    r.dispose();
  }
});

test('a non-finite system figure (1e999 parses as Infinity) is refused with file, line and field', async () => {
  for (const [system, field] of [
    [{ queueDepth: 'INF' }, 'system.queueDepth'],
    [{ latencyMs: { score: 'INF' } }, 'system.latencyMs.score'],
    [{ cache: { hits: 1, misses: 'INF' } }, 'system.cache.misses'],
  ] as const) {
    const text = [eventLine('e1', '2025-01-01T00:00:01Z'), eventLine('e2', '2025-01-01T00:00:02Z', { system }).replace('"INF"', '1e999')].join('\n') + '\n';
    const r = new Replayer(Slice.open(rawSlice(text)), { ranker: new RecordedRanker() });
    try {
      await assert.rejects(() => r.runToEnd(), (e: unknown) => e instanceof UserError && e.where.line === 2 && e.where.field === field && /is Infinity/.test(e.message));
    } finally {
      r.dispose();
    }
  }
});

/** Writes a slice of the given events and items (manifest pipeline as given) and replays it with the recorded ranker, keeping every completed event. */
async function replayWritten(events: EventRecord[], items: ItemRecord[], pipeline: PipelineSettings): Promise<EventExec[]> {
  const dir = join(tmp(), 'case.slice');
  writeSlice(dir, { manifest: { name: 'case', description: 'a hand-built case', source: { kind: 'synthetic', generator: 'test/engine/replay.test.ts' }, seed: 1, pipeline }, events, items, users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return completed(dir, new RecordedRanker());
}

/** Every event of the slice at `dir` as it completed, replayed to the end with `ranker`. */
async function completed(dir: string, ranker: Ranker): Promise<EventExec[]> {
  const seen: EventExec[] = [];
  const r = new Replayer(Slice.open(dir), { ranker, onEventComplete: (ex) => seen.push(ex) });
  try {
    await r.runToEnd();
  } finally {
    r.dispose();
  }
  return seen;
}

test('rerank: pipeline.maxPerCategory keeps at most that many items of a category ahead, the rest move below in score order', async () => {
  // Scores fall from a to e; a, b, c are category x, d is y, e is z.
  const items: ItemRecord[] = [
    { id: 'a', category: 'x' },
    { id: 'b', category: 'x' },
    { id: 'c', category: 'x' },
    { id: 'd', category: 'y' },
    { id: 'e', category: 'z' },
  ];
  const candidates = ['a', 'b', 'c', 'd', 'e'].map((item, i) => ({ item, score: 0.9 - i / 10 }));
  const event = (id: string, s: number): EventRecord => ({ id, t: `2025-01-01T00:00:0${s}Z`, user: 'u1', candidates, served: ['a', 'b', 'c'], outcome: { clicks: [] } });
  const run = async (maxPerCategory: number) => (await replayWritten([event('e1', 1)], items, { k: 3, budgetMs: 1000, maxPerCategory }))[0] as EventExec;
  // No rule: plain score order.
  const none = await run(0);
  assert.deepEqual(none.ranked, ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(none.served, ['a', 'b', 'c']);
  // One per category: the second and third x skip below d and e, keeping their own order.
  const one = await run(1);
  assert.deepEqual(one.ranked, ['a', 'd', 'e', 'b', 'c']);
  assert.deepEqual(one.served, ['a', 'd', 'e'], 'the served slate skips the second item of category x');
  assert.deepEqual(one.rankedRows.map((row) => row.rank), [1, 2, 3, 4, 5]);
  // Two per category: only the third x moves down.
  const two = await run(2);
  assert.deepEqual(two.ranked, ['a', 'b', 'd', 'e', 'c']);
  assert.deepEqual(two.served, ['a', 'b', 'd']);
});

test('rerank: items without a category (or outside the catalogue) are capped by no category, and a real category "?" is a category like any other', async () => {
  // Scores fall from a to g: a, b are category x; n1, n2 have none; zz is not in the catalogue; q1, q2 are category "?".
  const items: ItemRecord[] = [{ id: 'a', category: 'x' }, { id: 'b', category: 'x' }, { id: 'n1' }, { id: 'n2' }, { id: 'q1', category: '?' }, { id: 'q2', category: '?' }];
  const ids = ['a', 'n1', 'b', 'n2', 'zz', 'q1', 'q2'];
  const candidates = ids.map((item, i) => ({ item, score: 0.9 - i / 10 }));
  const e: EventRecord = { id: 'e1', t: '2025-01-01T00:00:01Z', user: 'u1', candidates, served: ['a'], outcome: { clicks: [] } };
  const [ex] = await replayWritten([e], items, { k: 5, budgetMs: 1000, maxPerCategory: 1 });
  // They were all one category "?": n2, zz and the real "?" items went below as if one.
  assert.deepEqual(ex?.ranked, ['a', 'n1', 'n2', 'zz', 'q1', 'b', 'q2']);
});

test('rerank: a category of null or "" is no category (as the format and the metrics read it), capped by none', async () => {
  // a > b > c > d by score; a, b, c have no category, written three ways; d is category x.
  const candidates = ['a', 'b', 'c', 'd'].map((item, i) => ({ item, score: 0.9 - i / 10 }));
  const e: EventRecord = { id: 'e1', t: '2025-01-01T00:00:01Z', user: 'u1', candidates, served: ['a', 'b', 'c'], outcome: { clicks: [] } };
  for (const none of [{}, { category: null as unknown as string }, { category: '' }]) {
    const items: ItemRecord[] = [{ id: 'a', ...none }, { id: 'b', ...none }, { id: 'c', ...none }, { id: 'd', category: 'x' }];
    const [ex] = await replayWritten([e], items, { k: 3, budgetMs: 1000, maxPerCategory: 1 });
    assert.deepEqual(ex?.ranked, ['a', 'b', 'c', 'd'], JSON.stringify(none));
    assert.deepEqual(ex?.served, ['a', 'b', 'c']);
  }
});

test('retrieve: an availability window includes its from and excludes its to (an event exactly at to drops the item, 1 ms before keeps it)', async () => {
  const at = '2025-01-01T00:00:10.000Z';
  const items: ItemRecord[] = [
    { id: 'until', available: [{ to: at }] },
    { id: 'since', available: [{ from: at }] },
    { id: 'always' },
  ];
  const candidates = [{ item: 'until', score: 0.9 }, { item: 'since', score: 0.8 }, { item: 'always', score: 0.7 }];
  const event = (id: string, t: string): EventRecord => ({ id, t, user: 'u1', candidates, served: ['until', 'since', 'always'], outcome: { clicks: [] } });
  const [before, exactly] = await replayWritten([event('e1', '2025-01-01T00:00:09.999Z'), event('e2', at)], items, { k: 3, budgetMs: 1000 });
  assert.deepEqual(before?.rows.map((r) => r.item), ['until', 'always'], '1 ms before the bounds: "until" is still available, "since" not yet');
  assert.deepEqual(before?.dropped, ['since']);
  assert.deepEqual(exactly?.rows.map((r) => r.item), ['since', 'always'], 'exactly at the bounds: "to" is exclusive, "from" inclusive');
  assert.deepEqual(exactly?.dropped, ['until']);
  assert.deepEqual(exactly?.served, ['since', 'always']);
});

test('features: a feature exactly staleAfterSec old is not stale; one a millisecond older is', async () => {
  const t = '2025-01-01T10:00:00.000Z';
  const candidates = [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.8 }];
  const event = (id: string, at: string, featureTimes: Record<string, string>): EventRecord => ({ id, t: at, user: 'u1', candidates, served: ['a', 'b'], outcome: { clicks: [] }, featureTimes });
  const [edge, over] = await replayWritten(
    [
      // 3600 s old exactly, and younger.
      event('e1', t, { exact: '2025-01-01T09:00:00.000Z', young: '2025-01-01T09:30:00.000Z' }),
      // 3600.001 s old.
      event('e2', '2025-01-01T10:00:01.000Z', { over: '2025-01-01T09:00:00.999Z' }),
    ],
    [{ id: 'a' }, { id: 'b' }],
    { k: 2, budgetMs: 1000, staleAfterSec: 3600 },
  );
  assert.deepEqual(edge?.stale, [], 'exactly staleAfterSec old is not older than it');
  assert.equal(edge?.faults.some((f) => f.kind === 'stale_feature'), false);
  assert.deepEqual(over?.stale, [{ name: 'over', ageSec: 3600.001 }]);
  const fault = over?.faults.find((f) => f.kind === 'stale_feature');
  assert.equal(fault?.stage, 'features');
  assert.equal(fault?.value, 3600.001);
  assert.match(fault?.message ?? '', /over older than 3600 s/);
});

test('a pipeline exactly at its budget is not over it, though its stages add up to 150.00000000000003 in doubles', async () => {
  const candidates = [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.8 }];
  const event = (id: string, t: string, score: number): EventRecord => ({ id, t, user: 'u1', candidates, served: ['a', 'b'], outcome: { clicks: [] }, system: { latencyMs: { retrieve: 12.1, features: 48.7, score, rerank: 3.3 } } });
  // serve defaults to 0.5 ms: 12.1 + 48.7 + 85.4 + 3.3 + 0.5 = 150 (150.00000000000003 as doubles).
  const [exact, over] = await replayWritten([event('e1', '2025-01-01T10:00:00.000Z', 85.4), event('e2', '2025-01-01T10:00:01.000Z', 85.5)], [{ id: 'a' }, { id: 'b' }], { k: 2, budgetMs: 150 });
  assert.equal(exact?.fallback, false);
  assert.equal(exact?.faults.some((f) => f.kind === 'over_budget'), false);
  assert.equal(over?.fallback, true);
  // The message shows the sum without its binary tail.
  assert.match(over?.faults.find((f) => f.kind === 'over_budget')?.message ?? '', /^pipeline took 150\.1 ms, over the 150 ms budget/);
});

test('a pipeline over its budget by 1e-7 ms is over it (only the rounding of the sum is forgiven), and its message does not read as the budget itself', async () => {
  const candidates = [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.8 }];
  const e: EventRecord = { id: 'e1', t: '2025-01-01T10:00:00.000Z', user: 'u1', candidates, served: ['a', 'b'], outcome: { clicks: [] }, system: { latencyMs: { retrieve: 12.1, features: 48.7, score: 85.4, rerank: 3.3, serve: 0.5000001 } } };
  const [ex] = await replayWritten([e], [{ id: 'a' }, { id: 'b' }], { k: 2, budgetMs: 150, stageBudgetMs: { serve: 0.5 } });
  // The serve stage alone was over its budget; the pipeline's sum, 150.0000001, was not counted over 150.
  assert.ok(ex?.faults.some((f) => f.kind === 'stage_over_budget'));
  assert.equal(ex?.fallback, true);
  assert.match(ex?.faults.find((f) => f.kind === 'over_budget')?.message ?? '', /^pipeline took 150\.0000001\d* ms, over the 150 ms budget/);
});

test('an item served at an instant before 1970 (a negative time) has online features: -1 ms was the "never updated" mark', async () => {
  const dir = join(tmp(), 'epoch.slice');
  const candidates = [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.8 }];
  const events: EventRecord[] = [
    { id: 'e1', t: '1969-12-31T23:59:59.999Z', user: 'u1', candidates, served: ['a'], outcome: { clicks: ['a'] } },
    { id: 'e2', t: '1970-01-01T00:00:01.999Z', user: 'u1', candidates, served: ['a'], outcome: { clicks: [] } },
  ];
  writeSlice(dir, { manifest: { name: 'epoch', description: 'd', source: { kind: 'synthetic' }, seed: 1, pipeline: { k: 1, budgetMs: 150 } }, events, items: [{ id: 'a' }, { id: 'b' }], users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const r = new Replayer(Slice.open(dir), { ranker: new RecordedRanker() });
  try {
    r.advance();
    await r.finishEvent();
    assert.equal(r.state.online('a', 'clicks'), 1);
    assert.equal(r.state.online('b', 'clicks'), undefined, 'b was never served');
    r.advance();
    await r.finishEvent();
    assert.equal(r.state.online('a', 'impressions'), 2);
    // And after a seek back (the state restored from a checkpoint).
    await r.seek(1, STAGES.length);
    assert.equal(r.state.online('a', 'clicks'), 1);
  } finally {
    r.dispose();
  }
});

test('stage latencies that add up to Infinity (each finite) are over the budget: the fallback is served', async () => {
  const candidates = [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.8 }];
  const e: EventRecord = { id: 'e1', t: '2025-01-01T10:00:00.000Z', user: 'u1', candidates, served: ['a', 'b'], outcome: { clicks: [] }, system: { latencyMs: { retrieve: 1e308, features: 1e308 } } };
  const [ex] = await replayWritten([e], [{ id: 'a' }, { id: 'b' }], { k: 2, budgetMs: 150 });
  assert.equal(ex?.fallback, true);
  assert.match(ex?.faults.find((f) => f.kind === 'over_budget')?.message ?? '', /^pipeline took Infinity ms, over the 150 ms budget/);
});

test('a ranker\'s latency estimate that is no number of ms (NaN, negative, a string, a BigInt, a cycle, a promise) or that throws is a ranker_error, and the default 10 ms stands in; its scores still count', async () => {
  // No score latency recorded: the estimate is asked for.
  const dir = join(tmp(), 'estimate.slice');
  const candidates = [{ item: 'a', score: 0.9 }, { item: 'b', score: 0.8 }];
  writeSlice(dir, { manifest: { name: 'estimate', description: 'd', source: { kind: 'synthetic' }, seed: 1, pipeline: { k: 2, budgetMs: 150 } }, events: [{ id: 'e1', t: '2025-01-01T10:00:00.000Z', user: 'u1', candidates, served: ['a', 'b'], outcome: { clicks: [] } }], items: [{ id: 'a' }, { id: 'b' }], users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const inner = new RecordedRanker();
  for (const [estimate, said] of [[() => Number.NaN, /returned NaN, not a number of ms ≥ 0; 10 ms assumed/], [() => -1, /returned -1,/], [() => '5', /returned "5",/], [() => { throw new Error('no model'); }, /latencyMs\(\d+\) threw no model; 10 ms assumed/], [() => 5n, /returned 5n, not a number/], [() => { const c: Record<string, unknown> = {}; c['self'] = c; return c; }, /returned \{"self":\{"self":.*, not a number/], [async () => 5, /returned a promise \(the estimate is asked for at once, not awaited\)/], [() => { throw Object.create(null); }, /threw \[object Object\]; 10 ms assumed/]] as const) {
    const ranker = { info: inner.info, score: (req: never) => inner.score(req), latencyMs: estimate as unknown as (n: number) => number };
    const r = new Replayer(Slice.open(dir), { ranker });
    try {
      r.advance();
      await r.finishEvent();
      const ex = r.current as EventExec;
      assert.equal(ex.latencyMs.score, 10);
      assert.match(ex.faults.find((f) => f.kind === 'ranker_error')?.message ?? '', said);
      // Its scores count: no fallback (26.5 ms of 150), the ranked slate is served.
      assert.equal(ex.fallback, false);
      assert.deepEqual(ex.served, ['a', 'b']);
    } finally {
      r.dispose();
    }
  }
});

test('a ranker that throws or rejects with anything, an object String() refuses included, raises ranker_error and the fallback is served (it ended the run with a TypeError)', async () => {
  const dir = makeSlice(3);
  for (const score of [() => { throw Object.create(null); }, () => Promise.reject(Object.create(null)), () => { throw null; }]) {
    const seen = await completed(dir, { info: { kind: 'test' }, score: score as never });
    assert.equal(seen.length, 3);
    for (const ex of seen) {
      assert.match(ex.faults.find((f) => f.kind === 'ranker_error')?.message ?? '', /^ranker failed: (\[object Object\]|null)$/);
      assert.equal(ex.fallback, true);
      assert.ok(ex.rows.every((row) => Number.isNaN(row.score)));
    }
  }
});

test('a score that is an object without a prototype is a nan_score (not a number), not a ranker_error', async () => {
  const dir = makeSlice(1);
  const r = new Replayer(Slice.open(dir), { ranker: { info: { kind: 'test' }, score: (req) => req.rows.map((_, i) => (i === 0 ? (Object.create(null) as number) : 0.5)) } });
  try {
    r.advance();
    await r.finishEvent();
    const ex = r.current as EventExec;
    assert.equal(ex.faults.some((f) => f.kind === 'ranker_error'), false);
    assert.match(ex.faults.find((f) => f.kind === 'nan_score')?.message ?? '', /is \{\}, not a number$/);
  } finally {
    r.dispose();
  }
});

test('a ranker\'s promise from another realm (a vm context), or any thenable, is awaited as a promise is', async () => {
  const dir = makeSlice(2);
  const otherRealm = vm.runInNewContext('(v) => Promise.resolve(v)') as (v: unknown) => Promise<number[]>;
  const traces: string[] = [];
  for (const score of [(req: { rows: unknown[] }) => otherRealm(req.rows.map((_, i) => i)), (req: { rows: unknown[] }) => ({ then: (ok: (v: number[]) => void) => ok(req.rows.map((_, i) => i)) }), (req: { rows: unknown[] }) => req.rows.map((_, i) => i)]) {
    const seen = await completed(dir, { info: { kind: 'test' }, score: score as never });
    assert.ok(seen.every((ex) => !ex.faults.some((f) => f.kind === 'ranker_error')));
    traces.push(JSON.stringify(seen.map((ex) => ex.ranked)));
  }
  assert.equal(traces[0], traces[2]);
  assert.equal(traces[1], traces[2]);
});

test('runHeadless refuses a checkpoint interval of 0 or NaN as the replayer does (it replaced them with the default)', async () => {
  for (const bad of [0, Number.NaN]) {
    await assert.rejects(runHeadless({ slice: makeSlice(3), ranker: 'recorded', checkpointEvery: bad }, { now: () => '', user: 'u', host: 'h', cwd: process.cwd() }), /checkpointEvery must be a finite number of events >= 1/);
  }
});

test('a score that is not a number (null, as JSON writes NaN; "", a boolean, missing) is a nan_score fault, not a silent 0 or 1', async () => {
  const dir = makeSlice(1);
  const given = [null, '', true, undefined];
  const ranker = { info: { kind: 'test' }, score: (req: { rows: unknown[] }) => req.rows.map((_, i) => (i < given.length ? given[i] : 0.5)) } as unknown as Ranker;
  const r = new Replayer(Slice.open(dir), { ranker });
  try {
    r.advance();
    await r.finishEvent();
    const ex = r.current as EventExec;
    assert.ok(ex.rows.length >= given.length);
    const nan = ex.faults.filter((f) => f.kind === 'nan_score');
    assert.deepEqual(nan.map((f) => f.message.replace(/^score of \S+ is /, '')), ['null, not a number', '"", not a number', 'true, not a number', 'missing, not a number']);
    assert.ok([...(ex.scores ?? [])].slice(0, given.length).every((s) => Number.isNaN(s)));
  } finally {
    r.dispose();
  }
});

test('a ranker that throws null or undefined (or rejects with it) is a ranker_error, not a crash', async () => {
  const dir = makeSlice(2);
  for (const thrown of [null, undefined]) {
    for (const ranker of [
      { info: { kind: 'test' }, score: () => { throw thrown; } },
      { info: { kind: 'test' }, score: () => Promise.reject(thrown) },
    ] as Ranker[]) {
      const r = new Replayer(Slice.open(dir), { ranker });
      try {
        r.advance();
        await r.finishEvent();
        const ex = r.current as EventExec;
        assert.ok(ex.faults.some((f) => f.kind === 'ranker_error' && f.message === `ranker failed: ${String(thrown)}`), JSON.stringify(ex.faults));
        assert.equal(ex.fallback, true);
      } finally {
        r.dispose();
      }
    }
  }
});

test('a stale feature just over the limit is not shown as exactly the limit old', async () => {
  const candidates = [{ item: 'a', score: 0.9 }];
  const [ex] = await replayWritten([{ id: 'e1', t: '2025-01-01T10:00:00.400Z', user: 'u1', candidates, served: ['a'], outcome: { clicks: [] }, featureTimes: { f: '2025-01-01T00:00:00.000Z' } }], [{ id: 'a' }], { k: 1, budgetMs: 1000, staleAfterSec: 36000 });
  assert.match(ex?.faults.find((f) => f.kind === 'stale_feature')?.message ?? '', /f older than 36000 s \(worst f: 36000\.4 s\)/);
});

test('the popularity ranker orders by clicks, then impressions, as the fallback ranking does, however many impressions', () => {
  const pop = new PopularityRanker();
  const state = { clicks: Int32Array.from([3, 2]), impressions: Int32Array.from([10, 1_500_000]) };
  const rows = [{ slot: 0 }, { slot: 1 }] as unknown as CandidateRow[];
  const s = pop.score({ rows, state } as unknown as Parameters<PopularityRanker['score']>[0]) as Float64Array;
  assert.ok((s[0] as number) > (s[1] as number), `3 clicks rank above 2 clicks: ${Array.from(s)}`);
  const tie = pop.score({ rows, state: { clicks: Int32Array.from([2, 2]), impressions: Int32Array.from([10, 20]) } } as unknown as Parameters<PopularityRanker['score']>[0]) as Float64Array;
  assert.ok((tie[1] as number) > (tie[0] as number), 'equal clicks: more impressions first');
});

test('a run stopped early (stopWhen) keeps no reader thread reading ahead for the replayer it hands back; stepping on reads again', async () => {
  const dir = makeSlice(2000, { chunkSize: 4096 });
  const close = BlockPrefetcher.prototype.close;
  let closed = 0;
  BlockPrefetcher.prototype.close = function (this: InstanceType<typeof BlockPrefetcher>) {
    closed++;
    close.call(this);
  };
  try {
    const started = Slice.prefetchesStarted;
    const r = await runHeadless({ slice: dir, ranker: 'recorded', stopWhen: (ex) => ex.n === 300 }, host);
    assert.equal(r.stoppedAt?.n, 300);
    assert.ok(Slice.prefetchesStarted > started, 'the run read through a reader thread');
    assert.ok(closed >= Slice.prefetchesStarted - started, 'every reader thread it started was stopped before the result came back');
    r.replayer.advance();
    await r.replayer.finishEvent();
    assert.equal(r.replayer.position.event, 301);
    r.replayer.dispose();
  } finally {
    BlockPrefetcher.prototype.close = close;
  }
});
