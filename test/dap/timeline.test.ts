import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MAX_PUSHED_POINTS, METRIC_SERIES_REQUEST, METRICS_EVENT, POSITION_EVENT, type MetricSeriesResponseBody, type MetricsEventBody, type PositionEventBody } from '../../src/shared/dap';
import { makeSlice } from '../helpers';
import { FAULT_KINDS } from '../../src/core/engine/faults';
import { client, COLD, failure, LATENCY, launch, moveAndStop, waitFor } from './helpers';
import { replayEach } from './slices';

test('recreplay/position reports every stop (with breakpoint ids) and recreplay/metrics the new per-event points', async () => {
  const dc = await client();
  try {
    const entryPos = waitFor(dc, POSITION_EVENT, () => true);
    await launch(dc, { ...COLD, stopOnEntry: true });
    const p0 = (await entryPos).body as PositionEventBody;
    assert.deepEqual({ ...p0, eventsPath: basename(dirname(p0.eventsPath)) + '/' + basename(p0.eventsPath) }, { state: 'stopped', event: 1, eventId: 'e00001', t: '2025-07-21T08:00:31.922Z', stagesDone: 0, stage: 'retrieve', eventCount: 650, eventsPath: 'cold-start.slice/events.jsonl', highWater: 0, reason: 'entry' });
    assert.ok(isAbsolute(p0.eventsPath), 'the adapter reports the absolute events path it opened');

    const metrics1 = waitFor(dc, METRICS_EVENT, (e) => e.body.through === 1);
    await moveAndStop(dc, () => dc.nextRequest({ threadId: 1 }));
    const m1 = (await metrics1).body as MetricsEventBody;
    assert.equal(m1.lane, 'replay');
    assert.deepEqual(m1.points.map((p) => p.event), [1]);
    assert.equal(m1.cumulative['events'], 1);
    assert.equal(typeof m1.points[0]?.values.overlap, 'number');

    const bp = await dc.setBreakpointsRequest({ source: { path: join(COLD.slice, 'events.jsonl') }, breakpoints: [{ line: 500 }] });
    const atBp = waitFor(dc, POSITION_EVENT, (e) => e.body.state === 'stopped');
    const seen: MetricsEventBody[] = [];
    const collect = (e: DebugProtocol.Event) => seen.push(e.body as MetricsEventBody);
    dc.on(METRICS_EVENT, collect);
    const bigBatch = waitFor(dc, METRICS_EVENT, (e) => e.body.through === 500);
    await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    const p1 = (await atBp).body as PositionEventBody;
    assert.deepEqual([p1.event, p1.stagesDone, p1.reason, p1.hitBreakpointIds], [500, 6, 'breakpoint', [bp.body.breakpoints[0]?.id]]);
    const m2 = (await bigBatch).body as MetricsEventBody;
    dc.removeListener(METRICS_EVENT, collect);
    assert.equal(m2.points.at(-1)?.event, 500);
    let through = m1.through;
    for (const m of seen) {
      assert.ok(m.points.length <= MAX_PUSHED_POINTS, 'a long run never floods the client');
      if (m.points.length === 0) continue;
      assert.equal((m.points[0]?.event as number) - 1 - m.skipped, through, 'skipped counts the points left out since the previous metrics event');
      through = m.through;
    }
    assert.equal(through, 500);
  } finally {
    await dc.stop();
  }
});

test('recreplay/metricSeries returns stored per-event series, downsampled into buckets, or as running means', async () => {
  const hits: (number | null)[] = [];
  let hitRate = 0;
  await replayEach(COLD.slice, COLD.ranker, (ex, r) => {
    hits.push(ex.metrics?.hit ?? null);
    hitRate = r.metrics.value('hit_rate@10') as number;
  });
  const dc = await client();
  try {
    await launch(dc, { ...COLD });
    const res = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', maxPoints: 10 })).body as MetricSeriesResponseBody;
    assert.equal(res.bucketSize, 65);
    assert.equal(res.buckets.length, 10);
    const first = hits.slice(0, 65).filter((h): h is number => h !== null);
    assert.ok(Math.abs((res.buckets[0]?.mean as number) - first.reduce((a, b) => a + b, 0) / first.length) < 1e-9);
    assert.deepEqual([res.buckets[0]?.min, res.buckets[0]?.max], [Math.min(...first), Math.max(...first)]);
    assert.equal(res.first, 0);
    // A client holding those ten buckets gets the last one again (it may have been partial), and only it.
    const tail = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', maxPoints: 10, known: { bucketSize: 65, buckets: 10 } })).body as MetricSeriesResponseBody;
    assert.equal(tail.first, 9);
    assert.deepEqual(tail.buckets, res.buckets.slice(9));
    const other = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', maxPoints: 10, known: { bucketSize: 64, buckets: 10 } })).body as MetricSeriesResponseBody;
    assert.equal(other.first, 0, 'buckets of another size are no use: all of them come back');
    assert.deepEqual(other.buckets, res.buckets);
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', known: { bucketSize: 65, buckets: -1 } })), /"known\.buckets" must be a whole number, 0 or more/);
    const run = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', from: 600, to: 650, cumulative: true })).body as MetricSeriesResponseBody;
    assert.equal(run.bucketSize, 1);
    assert.ok(Math.abs((run.buckets.at(-1)?.mean as number) - hitRate) < 1e-9, 'the running mean of hit at the last event is hit_rate@10');
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'ndgc' })), /unknown metric series "ndgc": the series are hit, rr, ndcg/);
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', lane: 'baseline' })), /no lane "baseline" in this session/);
    // A range that is none, or no buckets at all: refused, naming the argument (one bucket, or none, came back).
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', maxPoints: 0 })), /maxPoints is 0: ask for 1 bucket or more/);
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', from: 50, to: 10 })), /from 50 is after to 10: give the first event of the range, then the last/);
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', from: -5, to: -1 })), /from is -5: events are numbered from 1/);
  } finally {
    await dc.stop();
  }
});

test('recreplay/metricSeries with faults gives each bucket the fault kinds its events raised and its first and last faulted event, per lane in compare mode', async () => {
  // The reference: every event's fault kinds, replayed in-process, per ranker.
  const rankers = { baseline: 'recorded', candidate: LATENCY.ranker } as const;
  const want = new Map<string, string[][]>();
  for (const [lane, ranker] of Object.entries(rankers)) {
    const kinds: string[][] = [];
    await replayEach(LATENCY.slice, ranker, (ex) => void kinds.push([...new Set(ex.faults.map((f) => f.kind))]));
    want.set(lane, kinds);
  }
  const cand = want.get('candidate') as string[][];
  // The example's documented faults: the score stage over its budget from event 313, the fallback from 363.
  assert.equal(cand.findIndex((k) => k.includes('stage_over_budget')) + 1, 313);
  assert.equal(cand.findIndex((k) => k.includes('over_budget')) + 1, 363);
  const dc = await client();
  try {
    await launch(dc, { ...LATENCY, baseline: 'recorded' });
    for (const lane of ['baseline', 'candidate'] as const) {
      const kinds = want.get(lane) as string[][];
      for (const cumulative of [false, true]) {
        const res = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', lane, maxPoints: 40, cumulative, faults: true })).body as MetricSeriesResponseBody;
        assert.deepEqual(res.faultKinds, [...FAULT_KINDS]);
        assert.equal(res.to, kinds.length, 'ran to the end');
        assert.ok(res.buckets.some((b) => b.faultMask), `${lane}: some bucket has faults`);
        for (const b of res.buckets) {
          const evs = kinds.slice(b.from - 1, b.to).map((k, i) => ({ n: b.from + i, k })).filter((e) => e.k.length > 0);
          const names = [...new Set(evs.flatMap((e) => e.k))].sort();
          assert.deepEqual(res.faultKinds?.filter((_k, i) => ((b.faultMask as number) & (1 << i)) !== 0).sort(), names, `${lane} bucket ${b.from}-${b.to}: fault kinds`);
          assert.deepEqual([b.faultFrom, b.faultTo], evs.length ? [evs[0]?.n, evs.at(-1)?.n] : [0, 0], `${lane} bucket ${b.from}-${b.to}: first and last faulted event`);
        }
      }
    }
    const bucketOf = (res: MetricSeriesResponseBody, n: number) => res.buckets.find((b) => b.from <= n && n <= b.to);
    // Per event around the onset: stage_over_budget at 313, over_budget from 363.
    const around = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', lane: 'candidate', from: 310, to: 365, faults: true })).body as MetricSeriesResponseBody;
    const bit = (k: string) => 1 << FAULT_KINDS.indexOf(k as never);
    assert.equal((bucketOf(around, 312)?.faultMask ?? 0) & bit('stage_over_budget'), 0);
    assert.ok((bucketOf(around, 313)?.faultMask ?? 0) & bit('stage_over_budget'));
    assert.equal((bucketOf(around, 362)?.faultMask ?? 0) & bit('over_budget'), 0);
    assert.ok((bucketOf(around, 363)?.faultMask ?? 0) & bit('over_budget'));
    // The buckets a client holds are left out with their faults; the last comes again, with its own.
    const all = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', lane: 'candidate', maxPoints: 40, faults: true })).body as MetricSeriesResponseBody;
    const tail = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', lane: 'candidate', maxPoints: 40, faults: true, known: { bucketSize: all.bucketSize, buckets: all.buckets.length } })).body as MetricSeriesResponseBody;
    assert.deepEqual(tail.buckets, all.buckets.slice(tail.first));
    // Without `faults`, buckets and answer are as before.
    const plain = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', lane: 'candidate', maxPoints: 40 })).body as MetricSeriesResponseBody;
    assert.equal(plain.faultKinds, undefined);
    assert.ok(plain.buckets.every((b) => !('faultMask' in b)));
    assert.match(await failure(dc.customRequest(METRIC_SERIES_REQUEST, { metric: 'hit', faults: 'yes' })), /"faults" must be true or false/);
  } finally {
    await dc.stop();
  }
});

test('recreplay/metrics points name the fault kinds their event raised, and only then', async () => {
  const dc = await client();
  try {
    // Every point pushed up to the stop: the run pushes while it goes (at most every 100 ms, so on a
    // busy machine some of 300..363 come before the stop's own metrics event).
    const points: MetricsEventBody['points'] = [];
    const collect = (e: DebugProtocol.Event) => points.push(...(e.body as MetricsEventBody).points);
    dc.on(METRICS_EVENT, collect);
    const through = waitFor(dc, METRICS_EVENT, (e) => e.body.through === 363);
    // A run to a breakpoint at event 363 stops with it complete.
    await launch(dc, { ...LATENCY }, () => dc.setBreakpointsRequest({ source: { path: join(LATENCY.slice, 'events.jsonl') }, breakpoints: [{ line: 363 }] }));
    await through;
    dc.removeListener(METRICS_EVENT, collect);
    const at = (n: number) => points.find((p) => p.event === n);
    assert.ok(at(300) && !('faults' in (at(300) as object)), 'an event without faults names none');
    assert.ok(!at(312)?.faults?.includes('stage_over_budget'));
    assert.ok(at(313)?.faults?.includes('stage_over_budget'), JSON.stringify(at(313)));
    assert.ok(!at(362)?.faults?.includes('over_budget'));
    assert.ok(at(363)?.faults?.includes('over_budget'), JSON.stringify(at(363)));
  } finally {
    await dc.stop();
  }
});

test('long runs report progress the client can cancel, which pauses the run', async () => {
  const dir = makeSlice(40_000);
  const dc = await client();
  try {
    await launch(dc, { slice: dir, stopOnEntry: true }, undefined, { supportsProgressReporting: true });
    const started = waitFor(dc, 'progressStart', () => true);
    await dc.continueRequest({ threadId: 1 });
    const progress = (await started) as DebugProtocol.ProgressStartEvent;
    assert.equal(progress.body.cancellable, true);
    const ended = waitFor(dc, 'progressEnd', (e) => e.body.progressId === progress.body.progressId);
    const stop = await moveAndStop(dc, () => dc.send('cancel', { progressId: progress.body.progressId }));
    assert.equal(stop.body.reason, 'pause');
    await ended;
  } finally {
    await dc.stop();
  }
});
